"""Typed requests and responses survive build -> parse -> read unchanged."""

from datetime import date
from decimal import Decimal

import pytest

from adapters.ncpdp.d0 import (
    ClaimResponse,
    TransactionResponse,
    build_claim_request,
    build_claim_response,
    parse_request,
    parse_response,
    read_claim_request,
    read_claim_response,
)
from adapters.ncpdp.d0.request_segments import DurPps
from adapters.ncpdp.d0.response_segments import (
    ResponseClaimSegment,
    ResponseDur,
    ResponseDurSegment,
    ResponsePricingSegment,
    ResponseStatusSegment,
)
from hub.errors import MessageContentError
from tests.unit.ncpdp_d0.claims import ATORVASTATIN, WARFARIN, request, transaction


@pytest.mark.parametrize("code", ["B1", "B2", "B3"])
def test_request_round_trip_with_four_transactions(code: str) -> None:
    original = request(
        transaction(),
        transaction(ATORVASTATIN, rx_number="7000002", fill_number=3),
        transaction(
            WARFARIN,
            rx_number="7000003",
            dur=(DurPps(counter="1", reason="DD", professional_service="M0", result="1G"),),
        ),
        transaction(rx_number="7000004", prior_auth_number="PA123"),
        code=code,
    )
    raw = build_claim_request(original)
    assert raw[:10] == b"999001D0" + code.encode()
    assert raw[20:21] == b"4"
    assert read_claim_request(parse_request(raw)) == original


def test_request_header_is_56_characters_and_space_padded() -> None:
    raw = build_claim_request(request())
    assert raw[:56] == b"999001D0B1RXHUBSIM  101" + b"1993999998     " + b"20260301" + b"RXHUB     "
    assert raw[56:58] == b"\x1e\x1c"


def _responses() -> list[ClaimResponse]:
    paid = TransactionResponse(
        status=ResponseStatusSegment(
            transaction_status="P", authorization_number="AUTH1", message_lines=("HAVE A NICE DAY",)
        ),
        claim=ResponseClaimSegment(rx_reference_qualifier="1", rx_number="7000001"),
        pricing=ResponsePricingSegment(
            patient_pay=Decimal("5.00"),
            ingredient_cost_paid=Decimal("3.60"),
            dispensing_fee_paid=Decimal("1.75"),
            total_paid=Decimal("0.35"),
            copay=Decimal("5.00"),
            basis_of_reimbursement="1",
        ),
    )
    rejected = TransactionResponse(
        status=ResponseStatusSegment(transaction_status="R", reject_codes=("88", "79", "EE")),
        claim=ResponseClaimSegment(rx_reference_qualifier="1", rx_number="7000002"),
        dur=ResponseDurSegment(
            entries=(
                ResponseDur(counter="1", reason="DD", free_text="CHECK INR"),
                ResponseDur(
                    counter="2",
                    reason="ER",
                    previous_fill_date=date(2026, 2, 20),
                    previous_fill_quantity="30",
                ),
            )
        ),
    )

    def response(code: str, *answers: TransactionResponse) -> ClaimResponse:
        return ClaimResponse(
            transaction_code=code,
            service_provider_id="1993999998",
            date_of_service=date(2026, 3, 1),  # type: ignore[arg-type]
            message="SIMULATED PAYER",
            transactions=answers,
        )

    return [
        response("B1", paid, rejected),
        response(
            "B1",
            TransactionResponse(status=ResponseStatusSegment(transaction_status="D", authorization_number="AUTH1")),
        ),
        response("B1", TransactionResponse(status=ResponseStatusSegment(transaction_status="C"))),
        response("B2", TransactionResponse(status=ResponseStatusSegment(transaction_status="A"))),
        response("B2", TransactionResponse(status=ResponseStatusSegment(transaction_status="S"))),
        response(
            "B2",
            TransactionResponse(status=ResponseStatusSegment(transaction_status="R", reject_codes=("87",))),
        ),
    ]


@pytest.mark.parametrize("response", _responses())
def test_response_round_trip(response: ClaimResponse) -> None:
    raw = build_claim_response(response)
    assert read_claim_response(parse_response(raw)) == response


def test_response_header_is_31_characters() -> None:
    raw = build_claim_response(_responses()[0])
    assert raw[:31] == b"D0B12A011993999998     20260301"


def test_reject_count_is_derived_from_the_codes() -> None:
    transmission = parse_response(build_claim_response(_responses()[0]))
    status = transmission.groups[1].segment("21")
    assert status is not None
    assert status.first("FA") == "3"
    assert status.all("FB") == ["88", "79", "EE"]


def test_request_with_bad_quantity_names_segment_and_field() -> None:
    raw = build_claim_request(request()).replace(b"\x1cE730000", b"\x1cE73O000")
    with pytest.raises(MessageContentError) as caught:
        read_claim_request(parse_request(raw))
    problem = caught.value.problems[0]
    assert (problem.code, problem.location) == ("E7", "E7")


def test_request_with_bad_date_of_birth_gets_m_i_code_09() -> None:
    raw = build_claim_request(request()).replace(b"\x1cC419800405", b"\x1cC419801345")
    with pytest.raises(MessageContentError) as caught:
        read_claim_request(parse_request(raw))
    assert caught.value.problems[0].code == "09"
