"""Payer answers -> RecordClaimResponse: statuses, reject codes in order, messages, amounts, and unreadable
answers treated as no answer."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.ncpdp.d0 import ClaimResponse, TransactionResponse, build_claim_response
from adapters.ncpdp.d0.response_segments import ResponsePricingSegment, ResponseStatusSegment
from adapters.ncpdp.payer_link import ExchangeRef, response_to_command
from hub.errors import MessageContentError

EXCHANGE = "rx:42:3:2:B1"


def response(*answers: TransactionResponse, code: str = "B1", f1: str = "A", message: str | None = None) -> bytes:
    return build_claim_response(
        ClaimResponse(
            transaction_code=code,  # type: ignore[arg-type]
            header_response_status=f1,
            service_provider_id="1993999998",
            date_of_service=date(2026, 3, 1),
            message=message,
            transactions=answers,
        )
    )


def answer(
    status: str,
    *codes: str,
    lines: tuple[str, ...] = (),
    auth: str | None = None,
    pricing: ResponsePricingSegment | None = None,
) -> TransactionResponse:
    return TransactionResponse(
        status=ResponseStatusSegment(
            transaction_status=status, reject_codes=codes, message_lines=lines, authorization_number=auth
        ),
        pricing=pricing,
    )


def test_paid_answer_carries_amounts_and_authorization() -> None:
    pricing = ResponsePricingSegment(
        patient_pay=Decimal("5.00"),
        ingredient_cost_paid=Decimal("3.60"),
        dispensing_fee_paid=Decimal("1.75"),
        total_paid=Decimal("0.35"),
    )
    command = response_to_command(response(answer("P", auth="SIM000000007", pricing=pricing)), EXCHANGE)
    assert (command.exchange_id, command.prescription_id, command.fill_number, command.attempt) == (
        EXCHANGE,
        "rx:42",
        3,
        2,
    )
    assert (command.transaction, command.status, command.reject_codes) == ("B1", "P", ())
    assert command.authorization_number == "SIM000000007"
    assert (command.total_paid, command.patient_pay, command.ingredient_cost_paid, command.dispensing_fee_paid) == (
        Decimal("0.35"),
        Decimal("5.00"),
        Decimal("3.60"),
        Decimal("1.75"),
    )
    assert command.payer_message is None


def test_rejection_keeps_codes_in_order_and_joins_message_text() -> None:
    body = response(
        answer("R", "76", "19", "75", lines=("PLAN LIMIT", " CALL 800-555-0100 ")), message="SEE PAYER SHEET"
    )
    command = response_to_command(body, EXCHANGE)
    assert (command.status, command.reject_codes) == ("R", ("76", "19", "75"))
    assert command.payer_message == "SEE PAYER SHEET\nPLAN LIMIT\nCALL 800-555-0100"
    assert command.total_paid is None


def test_transmission_level_reject_is_status_r_with_its_codes() -> None:
    body = response(answer("R", "92", lines=("HOST DOWN",)), answer("R", "92"), f1="R")
    command = response_to_command(body, EXCHANGE)
    assert (command.status, command.reject_codes, command.payer_message) == ("R", ("92",), "HOST DOWN")


@pytest.mark.parametrize(
    ("exchange", "code", "status"),
    [
        ("rx-1:0:1:B2", "B2", "A"),
        ("rx-1:0:1:B2", "B2", "S"),
        ("rx-1:0:1:B1", "B1", "D"),
        ("rx-1:0:1:B3", "B3", "C"),
    ],
)
def test_every_standard_status_passes_through(exchange: str, code: str, status: str) -> None:
    assert response_to_command(response(answer(status), code=code), exchange).status == status


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"garbage",
        b"D0B11A011993999998     20260301\x1e\x1cAM20\x1cF4NO STATUS SEGMENT",
        response(answer("X")),
        response(answer("A")),  # an approval is no answer to a B1
        response(answer("P")).replace(b"\x1cAN", b"\x1cZZ"),
    ],
)
def test_unreadable_answer_is_treated_as_no_answer(body: bytes) -> None:
    command = response_to_command(body, EXCHANGE)
    assert (command.status, command.reject_codes, command.payer_message) == ("timeout", (), None)
    assert (command.prescription_id, command.fill_number, command.attempt, command.transaction) == ("rx:42", 3, 2, "B1")


def test_eligibility_answer_is_read_for_its_check() -> None:
    command = response_to_command(response(answer("A")), "check-1:0:1:E1")
    assert (command.prescription_id, command.transaction, command.status) == ("check-1", "E1", "A")


@pytest.mark.parametrize("exchange", ["", "rx-1", "rx-1:0:1:P1", "rx-1:x:1:B1", ":0:1:B1", "rx:0:1:b1"])
def test_malformed_exchange_id_is_a_content_error(exchange: str) -> None:
    with pytest.raises(MessageContentError):
        ExchangeRef.parse(exchange)
    with pytest.raises(MessageContentError):
        response_to_command(response(answer("P")), exchange)


@given(st.binary(max_size=400))
def test_any_bytes_give_a_command_never_an_exception(body: bytes) -> None:
    command = response_to_command(body, EXCHANGE)
    assert command.status in {"P", "D", "R", "C", "Q", "timeout"}


@given(st.text(alphabet="D0B1AR 0123456789\x1c\x1d\x1eAMFNQ", max_size=120))
def test_near_d0_text_gives_a_command_never_an_exception(text: str) -> None:
    command = response_to_command(("D0B11A01" + text).encode(), EXCHANGE)
    assert command.exchange_id == EXCHANGE
