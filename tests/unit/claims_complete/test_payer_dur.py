"""Payer messages to the pharmacist (issue 33, part 4): the simulator's AM24 on a paid claim, read into the
command, and attached to the prescription as alerts that block approval like the hub's own."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from adapters.ncpdp.d0 import (
    ClaimResponse,
    TransactionResponse,
    build_claim_response,
    parse_response,
    read_claim_response,
)
from adapters.ncpdp.d0.response_segments import ResponseDur, ResponseDurSegment, ResponseStatusSegment
from adapters.ncpdp.payer import Adjudicator, ClaimHistory, load_payer_config
from adapters.ncpdp.payer.config import OutsideFill, PayerInteraction
from adapters.ncpdp.payer_link import response_to_command
from hub.config import DATA_DIR
from hub.domain.alerts import AlertKind, Severity
from hub.domain.claim import PayerDurAlert
from hub.domain.rx_claims import payer_finding
from tests.unit.ncpdp_d0.claims import AMOXICILLIN, WARFARIN, request, transaction

ATORVASTATIN = "00071015523"


def plan_with_interaction(*outside: OutsideFill, with_ndc: str = WARFARIN) -> Adjudicator:
    config = load_payer_config(DATA_DIR / "payer-sim.json").model_copy(
        update={
            "interactions": (PayerInteraction(ndc=AMOXICILLIN, with_ndc=with_ndc, text="MAY RAISE INR"),),
            "outside_fills": outside,
        }
    )
    return Adjudicator(config)


def test_paid_claim_carries_am24_for_a_fill_at_another_pharmacy() -> None:
    payer = plan_with_interaction(OutsideFill(ndc=WARFARIN, date_of_fill=date(2026, 2, 1), quantity=Decimal(30)))
    response = payer.adjudicate(request(transaction(AMOXICILLIN)), ClaimHistory())
    answer = response.transactions[0]
    assert answer.status.transaction_status == "P"
    assert answer.dur is not None
    [entry] = answer.dur.entries
    assert (entry.reason, entry.clinical_significance, entry.other_pharmacy) == ("DD", "1", "3")
    assert (entry.previous_fill_date, entry.free_text) == (date(2026, 2, 1), "MAY RAISE INR")


def test_interaction_with_a_fill_here_and_none_without_the_other_drug() -> None:
    payer, history = plan_with_interaction(with_ndc=ATORVASTATIN), ClaimHistory()
    assert payer.adjudicate(request(transaction(AMOXICILLIN)), history).transactions[0].dur is None
    payer.adjudicate(request(transaction(ATORVASTATIN, rx_number="7000002")), history)
    paid = payer.adjudicate(request(transaction(AMOXICILLIN, rx_number="7000003")), history).transactions[0]
    assert paid.dur is not None and paid.dur.entries[0].other_pharmacy == "1"


def test_am24_and_messages_of_a_paid_answer_reach_the_command() -> None:
    dur = ResponseDurSegment(
        entries=(
            ResponseDur(
                counter="1",
                reason="DD",
                clinical_significance="1",
                other_pharmacy="3",
                previous_fill_date=date(2026, 2, 1),
                previous_fill_quantity="30000",
                database="1",
                other_prescriber="2",
                free_text="WARFARIN ELSEWHERE",
            ),
        )
    )
    body = build_claim_response(
        ClaimResponse(
            service_provider_id="1993999998",
            date_of_service=date(2026, 3, 1),
            message="CALL PLAN FOR 90 DAY",
            transactions=(
                TransactionResponse(
                    status=ResponseStatusSegment(transaction_status="P", message_lines=("MAIL ORDER AVAILABLE",)),
                    dur=dur,
                ),
            ),
        )
    )
    assert read_claim_response(parse_response(body)).transactions[0].dur == dur
    command = response_to_command(body, "rx:0:1:B1")
    [alert] = command.payer_dur
    assert (alert.reason, alert.clinical_significance, alert.other_pharmacy, alert.other_prescriber) == (
        "DD",
        "1",
        "3",
        "2",
    )
    assert (alert.previous_fill_date, alert.previous_fill_quantity, alert.database) == (date(2026, 2, 1), "30000", "1")
    assert alert.free_text == "WARFARIN ELSEWHERE"
    assert command.payer_message == "CALL PLAN FOR 90 DAY\nMAIL ORDER AVAILABLE"


def test_significance_decides_whether_the_alert_blocks() -> None:
    major = payer_finding(
        PayerDurAlert(reason="DD", clinical_significance="1", other_pharmacy="3", free_text="MAY RAISE INR")
    )
    assert (major.kind, major.severity) == (AlertKind.PAYER_DUR, Severity.HIGH)
    assert "filled at another pharmacy" in major.text and "MAY RAISE INR" in major.text
    assert payer_finding(PayerDurAlert(reason="TD", clinical_significance="3")).severity is Severity.LOW
    assert payer_finding(PayerDurAlert(reason="ER")).severity is Severity.MODERATE
