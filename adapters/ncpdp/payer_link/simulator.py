"""The simulated payer process: claims from the payer exchange in, D.0 answers to their reply-to out.

    <prefix>.payer (topic, "<BIN>.#" per simulated BIN) ──▶ <prefix>.payer-sim ──▶ Adjudicator
        ──▶ default exchange, routing key = the claim's reply_to (<prefix>.payer-responses)

Failure knobs from the data file: ``delay_ms`` (answer late), ``drop_every`` (every n-th answer is lost on
the way back *after* the payer decided, so it may have paid: the case that makes the hub reverse before
resubmitting) and a drug's ``no_answer`` (the claim never reaches the payer: nothing is decided). A
dropped claim is acked without an answer, so only the hub's payer timeout notices.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

import pika.exceptions as pe
from pika.adapters.blocking_connection import BlockingChannel
from pika.spec import BasicProperties

from adapters.ncpdp.d0.claim_request import ClaimRequest, read_claim_request
from adapters.ncpdp.d0.claim_response import ClaimResponse, build_claim_response
from adapters.ncpdp.d0.parser import parse_request
from adapters.ncpdp.payer.adjudicator import Adjudicator
from adapters.ncpdp.payer.config import PayerConfig, load_payer_config
from adapters.ncpdp.payer.history import ClaimHistory
from adapters.ncpdp.payer_link.amqp_contract import MessagePublisher, publish_confirmed, response_properties
from hub.errors import InfrastructureError, MessageContentError
from hub.messaging.async_publisher import OutgoingMessage
from hub.messaging.blocking_publisher import BlockingConfirmingPublisher, connect
from hub.messaging.broker_failures import reconnect_level
from hub.messaging.consumer import ConsumerRunner
from hub.messaging.reconnect import until_done
from hub.messaging.topology import Queue, Topology, declare

log = logging.getLogger(__name__)

PAYER_SIM_STEP = "payer-sim"


def sim_queue(topology: Topology) -> Queue:
    """The simulator's own durable queue, ``<prefix>.payer-sim``."""
    return Queue(f"{topology.prefix}.{PAYER_SIM_STEP}")


def declare_sim_queue(channel: BlockingChannel, topology: Topology, bins: Sequence[str]) -> None:
    """Declare the topology, the simulator's queue and one ``<BIN>.#`` binding per simulated BIN."""
    declare(channel, topology)
    queue = sim_queue(topology)
    channel.queue_declare(queue=queue.name, durable=True, arguments=queue.declare_arguments())
    for bin_ in bins:
        channel.queue_bind(queue=queue.name, exchange=topology.payer_exchange, routing_key=f"{bin_}.#")


class SimAnswer(NamedTuple):
    """The answer bytes, or None when the payer stays silent, and a log line free of patient details."""

    response: bytes | None
    summary: str


class PayerSimulator:
    """Decides, claim by claim, what the simulated payer answers (no I/O; owns the claim history)."""

    def __init__(self, config: PayerConfig) -> None:
        self._config = config
        self._adjudicator = Adjudicator(config)
        self._history = ClaimHistory()
        self._received = 0

    @property
    def delay_s(self) -> float:
        """How long to wait before answering."""
        return self._config.delay_ms / 1000

    def answer(self, body: bytes) -> SimAnswer:
        """The answer to one claim transmission."""
        self._received += 1
        request = _readable(body)
        if request is None:
            return SimAnswer(self._adjudicator.respond(body, self._history), "unreadable claim rejected")
        if self._never_answered(request):
            return SimAnswer(None, f"{_describe_request(request)}: no answer (NDC configured no_answer)")
        response = self._adjudicator.adjudicate(request, self._history)
        summary = f"{_describe_request(request)}: {_describe_response(response)}"
        every = self._config.drop_every
        if every and self._received % every == 0:
            return SimAnswer(None, f"{summary}; answer dropped (drop_every {every})")
        return SimAnswer(build_claim_response(response), summary)

    def _never_answered(self, request: ClaimRequest) -> bool:
        drugs = self._config.drugs
        ndcs = (t.claim.product_id or "" for t in request.transactions)
        return any(ndc in drugs and drugs[ndc].no_answer for ndc in ndcs)


def _readable(body: bytes) -> ClaimRequest | None:
    try:
        return read_claim_request(parse_request(body))
    except MessageContentError:
        return None


def _describe_request(request: ClaimRequest) -> str:
    return f"{request.transaction_code} BIN {request.bin}"


def _describe_response(response: ClaimResponse) -> str:
    answers = [
        t.status.transaction_status + (f" ({','.join(t.status.reject_codes)})" if t.status.reject_codes else "")
        for t in response.transactions
    ]
    return f"F1={response.header_response_status} " + " ".join(answers)


class PayerSimProcess:
    """The simulator on the broker: declares its queue, consumes claims, answers with confirms."""

    def __init__(
        self,
        amqp_url: str,
        topology: Topology,
        config: PayerConfig,
        *,
        bins: Sequence[str] | None = None,
        publisher: MessagePublisher | None = None,
    ) -> None:
        self.amqp_url = amqp_url
        self.topology = topology
        self.bins = tuple(bins) if bins is not None else config.bins
        self.queue = sim_queue(topology).name
        self._simulator = PayerSimulator(config)
        self._own_publisher = publisher is None
        self._publisher: MessagePublisher = publisher or BlockingConfirmingPublisher(amqp_url)
        self._stop = threading.Event()
        self.runner = ConsumerRunner(
            amqp_url=amqp_url,
            topology=topology,
            step=PAYER_SIM_STEP,
            raw_handler=self.handle,
            queue=self.queue,
            prefetch=8,
        )

    @property
    def ready(self) -> threading.Event:
        """Set while the queue is bound and claims are being consumed."""
        return self.runner.ready

    def run(self, stop: threading.Event) -> None:
        """Serve claims until ``stop`` is set; waits for the broker when it is not there yet."""
        self._stop = stop
        try:
            if self._declare(stop):
                log.info("payer-sim answering BINs %s on %s", ", ".join(self.bins), self.queue)
                self.runner.run(stop)
        finally:
            if self._own_publisher and isinstance(self._publisher, BlockingConfirmingPublisher):
                self._publisher.close()

    def handle(self, body: bytes, props: BasicProperties) -> None:
        """Answer one claim (raw handler for the ConsumerRunner, which acks once this returns)."""
        if not props.reply_to:
            raise MessageContentError(f"claim {props.correlation_id} has no reply_to: nowhere to answer")
        if self._simulator.delay_s:
            self._stop.wait(self._simulator.delay_s)
        answer = self._simulator.answer(body)
        if answer.response is not None:
            message = OutgoingMessage("", props.reply_to, answer.response, response_properties(props))
            publish_confirmed(self._publisher, message)
        log.info("payer-sim %s: %s", props.correlation_id, answer.summary)

    def _declare(self, stop: threading.Event) -> bool:
        return until_done(
            self._declare_once, stop, errors=(InfrastructureError, pe.AMQPError, OSError), failed=_not_declared
        )

    def _declare_once(self) -> None:
        connection = connect(self.amqp_url)
        try:
            declare_sim_queue(connection.channel(), self.topology, self.bins)
        finally:
            connection.close()


def _not_declared(exc: BaseException) -> None:
    log.log(reconnect_level(exc), "payer-sim cannot declare its queue yet: %s", exc)


def run_payer_sim(
    amqp_url: str, topology: Topology, config_path: Path, stop: threading.Event, *, bins: list[str] | None = None
) -> None:
    """The ``rxhub payer-sim`` process: answer claims for ``bins`` (default: the data file's) until stopped.

    A broken data file raises pydantic's ValidationError (or OSError) at once: better than a silent payer.
    """
    PayerSimProcess(amqp_url, topology, load_payer_config(config_path), bins=bins).run(stop)
