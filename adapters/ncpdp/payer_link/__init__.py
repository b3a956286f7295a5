"""The payer interface over RabbitMQ: claims out as D.0, payer answers back as RecordClaimResponse commands,
and the simulated payer process that answers them in development and tests."""

from adapters.ncpdp.payer_link.amqp_contract import (
    CLAIM_MESSAGE_TYPE,
    D0_CONTENT_TYPE,
    RESPONSE_MESSAGE_TYPE,
    MessagePublisher,
    claim_properties,
    response_properties,
)
from adapters.ncpdp.payer_link.codec import D0ClaimCodec, routing_key
from adapters.ncpdp.payer_link.responses import (
    ExchangeRef,
    PayerAnswer,
    answer_envelope,
    payer_response_runner,
    read_answer,
    response_to_command,
)
from adapters.ncpdp.payer_link.simulator import (
    PayerSimProcess,
    PayerSimulator,
    SimAnswer,
    declare_sim_queue,
    run_payer_sim,
    sim_queue,
)

__all__ = [
    "CLAIM_MESSAGE_TYPE",
    "D0_CONTENT_TYPE",
    "RESPONSE_MESSAGE_TYPE",
    "D0ClaimCodec",
    "ExchangeRef",
    "MessagePublisher",
    "PayerAnswer",
    "PayerSimProcess",
    "PayerSimulator",
    "SimAnswer",
    "answer_envelope",
    "claim_properties",
    "declare_sim_queue",
    "payer_response_runner",
    "read_answer",
    "response_properties",
    "response_to_command",
    "routing_key",
    "run_payer_sim",
    "sim_queue",
]
