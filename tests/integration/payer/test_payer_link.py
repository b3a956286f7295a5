"""Claims out through the payer exchange, the simulated payer, answers back as RecordClaimResponse commands:
all on the real broker, exactly as the outbox relay and the claim worker will use it."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from pathlib import Path

from adapters.ncpdp.d0 import ClaimResponse, TransactionResponse, build_claim_response
from adapters.ncpdp.d0.response_segments import ResponseStatusSegment
from adapters.ncpdp.payer_link import response_properties
from adapters.ncpdp.payer_link.amqp_contract import claim_properties
from hub.domain.claim_exchange import ClaimTransaction
from hub.domain.commands import RecordClaimResponse
from hub.domain.order_parts import Source
from hub.messaging.headers import ORDER_CORRELATION_HEADER
from tests.integration.payer.link import PayerLink
from tests.unit.ncpdp_payer_link.claim_data import (
    ADALIMUMAB,
    AMOXICILLIN,
    DOWN_BIN,
    HYDROCODONE,
    INSULIN,
    SIM_BIN,
    WARFARIN,
    claim,
)

SILENT_NDC = "00000000011"


def test_paid_claim_becomes_a_command_with_amounts_and_the_order_correlation(link: PayerLink) -> None:
    order = uuid.uuid4()
    data = claim("rx-paid")
    link.send(data, order)
    envelope = link.next_envelope()
    assert envelope is not None
    assert (envelope.type, envelope.correlation_id, envelope.source) == ("RecordClaimResponse", order, Source.HUB)
    assert envelope.causation_id is not None, "caused by the payer's answer message"
    command = envelope.command()
    assert isinstance(command, RecordClaimResponse)
    assert (command.exchange_id, command.prescription_id, command.fill_number, command.attempt) == (
        "rx-paid:0:1:B1",
        "rx-paid",
        0,
        1,
    )
    assert (command.transaction, command.status, command.reject_codes) == ("B1", "P", ())
    # hub/data/payer-sim.json: 30 x 0.12 + 1.75 fee = 5.35; copay 5.00; the plan pays 0.35
    assert (command.total_paid, command.patient_pay, command.ingredient_cost_paid, command.dispensing_fee_paid) == (
        Decimal("0.35"),
        Decimal("5.00"),
        Decimal("3.60"),
        Decimal("1.75"),
    )
    assert command.authorization_number == "SIM000000001"


def test_not_covered_70_and_plan_limits_76(link: PayerLink) -> None:
    rejected = link.exchange(claim("rx-70", rx_number="7070", ndc=ADALIMUMAB))
    assert (rejected.status, rejected.reject_codes) == ("R", ("70",))
    assert rejected.payer_message is not None and rejected.total_paid is None
    limited = link.exchange(claim("rx-76", rx_number="7076", ndc=HYDROCODONE, quantity=Decimal("150")))
    assert (limited.status, limited.reject_codes) == ("R", ("76",))


def test_prior_auth_75_then_paid_with_the_pa_number(link: PayerLink) -> None:
    first = link.exchange(claim("rx-pa", rx_number="7075", ndc=INSULIN))
    assert (first.status, first.reject_codes) == ("R", ("75",))
    second = link.exchange(claim("rx-pa", attempt=2, rx_number="7075", ndc=INSULIN, prior_auth_number="PA778899"))
    assert (second.status, second.attempt, second.authorization_number) == ("P", 2, "SIM000000001")


def test_refill_too_soon_79(link: PayerLink) -> None:
    original = claim("rx-79", rx_number="7079", days_supply=30, date_of_service=date(2026, 3, 1))
    assert link.exchange(original).status == "P"
    early = claim("rx-79", fill_number=1, rx_number="7079", days_supply=30, date_of_service=date(2026, 3, 5))
    command = link.exchange(early)
    assert (command.status, command.reject_codes, command.fill_number) == ("R", ("79",), 1)


def test_dur_88_then_paid_with_dur_pps_codes(link: PayerLink) -> None:
    first = link.exchange(claim("rx-88", rx_number="7088", ndc=WARFARIN))
    assert (first.status, first.reject_codes) == ("R", ("88",))
    second = link.exchange(
        claim(
            "rx-88",
            attempt=2,
            rx_number="7088",
            ndc=WARFARIN,
            dur_pps=(("DD", "M0", "1G"),),
            clarification_codes=("1",),
        )
    )
    assert second.status == "P"


def test_missing_cardholder_is_an_mi_reject(link: PayerLink) -> None:
    command = link.exchange(claim("rx-07", rx_number="7007", cardholder_id=None))
    assert (command.status, command.reject_codes) == ("R", ("07",))


def test_host_down_is_a_transmission_level_reject_92(link: PayerLink) -> None:
    command = link.exchange(claim("rx-92", rx_number="7092", bin=DOWN_BIN))
    assert (command.status, command.reject_codes) == ("R", ("92",))


def test_resent_claim_is_a_duplicate_of_paid_with_the_same_authorization(link: PayerLink) -> None:
    paid = link.exchange(claim("rx-dup", rx_number="7777"))
    again = link.exchange(claim("rx-dup", attempt=2, rx_number="7777"))
    assert (paid.status, again.status) == ("P", "D")
    assert again.authorization_number == paid.authorization_number
    assert again.total_paid == paid.total_paid


def test_reversal_of_a_paid_claim_is_approved(link: PayerLink) -> None:
    assert link.exchange(claim("rx-b2", rx_number="7002")).status == "P"
    reversal = link.exchange(claim("rx-b2", attempt=2, rx_number="7002", transaction=ClaimTransaction.REVERSAL))
    assert (reversal.transaction, reversal.status, reversal.exchange_id) == ("B2", "A", "rx-b2:0:2:B2")


def test_dropped_claim_gets_no_answer(start_link: Callable[[Path], PayerLink], tmp_path: Path) -> None:
    data_file = tmp_path / "payer-sim.json"
    drugs = {SILENT_NDC: {"no_answer": True}, AMOXICILLIN: {"unit_cost": "0.10"}}
    data_file.write_text(json.dumps({"bins": [SIM_BIN], "drugs": drugs}))
    link = start_link(data_file)
    link.send(claim("rx-silent", rx_number="7100", ndc=SILENT_NDC), uuid.uuid4())
    assert link.next_envelope(timeout_s=1.5) is None
    # the link is alive: the next claim is answered, and it is the only command there
    assert link.exchange(claim("rx-after", rx_number="7101")).status == "P"
    assert link.next_envelope(timeout_s=0.3) is None


def test_redelivered_payer_answer_gives_the_same_command_message_id(link: PayerLink) -> None:
    order = uuid.uuid4()
    claim_props = claim_properties("rx-re:0:1:B1", order, link.topology.payer_responses_queue)
    answer_props = response_properties(claim_props)
    body = _paid_answer()
    for _ in range(2):
        link.publish_raw("", link.topology.payer_responses_queue, body, answer_props)
    first, second = link.next_envelope(), link.next_envelope()
    assert first is not None and second is not None
    assert first.message_id == second.message_id
    assert first.correlation_id == order
    # a different answer (new message id) is a different command
    link.publish_raw("", link.topology.payer_responses_queue, body, response_properties(claim_props))
    third = link.next_envelope()
    assert third is not None and third.message_id != first.message_id


def test_an_answer_whose_command_could_not_be_applied_is_retried_not_lost(link: PayerLink) -> None:
    link.failures_left = 1
    props = response_properties(claim_properties("rx-retry:0:1:B1", uuid.uuid4(), "unused"))
    link.publish_raw("", link.topology.payer_responses_queue, _paid_answer(), props)
    envelope = link.next_envelope(timeout_s=10.0)
    assert envelope is not None, "the answer came back from the payer-responses retry queue"
    command = envelope.command()
    assert isinstance(command, RecordClaimResponse)
    assert (command.exchange_id, command.status) == ("rx-retry:0:1:B1", "P")
    assert link.failures_left == 0
    assert link.next_message(link.topology.dead_letter_queue, 0.3) is None


def test_unreadable_answer_becomes_a_timeout_command(link: PayerLink) -> None:
    props = response_properties(claim_properties("rx-junk:1:1:B1", uuid.uuid4(), "unused"))
    link.publish_raw("", link.topology.payer_responses_queue, b"\x00 not D.0", props)
    envelope = link.next_envelope()
    assert envelope is not None
    command = envelope.command()
    assert isinstance(command, RecordClaimResponse)
    assert (command.exchange_id, command.status, command.reject_codes) == ("rx-junk:1:1:B1", "timeout", ())


def test_answer_without_the_order_correlation_is_dead_lettered(link: PayerLink) -> None:
    props = response_properties(claim_properties("rx-lost:0:1:B1", uuid.uuid4(), "unused"))
    props.headers.pop(ORDER_CORRELATION_HEADER)
    link.publish_raw("", link.topology.payer_responses_queue, _paid_answer(), props)
    dead = link.next_message(link.topology.dead_letter_queue, 5.0)
    assert dead is not None
    assert dead[0].headers["x-rxhub-failure-kind"] == "validation"
    assert ORDER_CORRELATION_HEADER in dead[0].headers["x-rxhub-error"]
    assert link.next_envelope(timeout_s=0.3) is None


def _paid_answer() -> bytes:
    status = ResponseStatusSegment(transaction_status="P", authorization_number="EXT1")
    return build_claim_response(
        ClaimResponse(
            service_provider_id="1993999998",
            date_of_service=date(2026, 3, 1),
            transactions=(TransactionResponse(status=status),),
        )
    )


def test_configured_delay_holds_the_answer_back(start_link: Callable[[Path], PayerLink], tmp_path: Path) -> None:
    data_file = tmp_path / "payer-sim.json"
    drugs = {AMOXICILLIN: {"unit_cost": "0.10"}}
    data_file.write_text(json.dumps({"bins": [SIM_BIN], "drugs": drugs, "delay_ms": 600}))
    link = start_link(data_file)
    link.send(claim("rx-slow", rx_number="7200"), uuid.uuid4())
    assert link.next_envelope(timeout_s=0.4) is None, "not before the configured delay"
    envelope = link.next_envelope(timeout_s=3.0)
    assert envelope is not None
    assert envelope.payload["status"] == "P"
