"""Payer responses to B1/B2/B3 as one typed model: paid P, duplicate D, captured C, rejected R (B1/B3) and
approved A, duplicate S, rejected R (B2), to bytes and back (standards.md §4.3)."""

from __future__ import annotations

from datetime import date
from typing import cast

from pydantic import Field

from adapters.ncpdp.d0.builder import build_transmission
from adapters.ncpdp.d0.claim_request import ClaimRequest, ClaimTransactionCode
from adapters.ncpdp.d0.content_errors import content_error
from adapters.ncpdp.d0.model import (
    MAX_TRANSACTIONS,
    ResponseHeader,
    ResponseTransmission,
    TransactionGroup,
)
from adapters.ncpdp.d0.response_segments import (
    ResponseClaimSegment,
    ResponseDurSegment,
    ResponseInsuranceSegment,
    ResponseMessageSegment,
    ResponsePricingSegment,
    ResponseStatusSegment,
)
from adapters.ncpdp.d0.segment_view import segments_of, view_of
from hub.domain.claim_codes import SYNTAX_ERROR_CODE
from hub.domain.order_parts import Frozen


class TransactionResponse(Frozen):
    """The payer's answer to one transaction."""

    status: ResponseStatusSegment
    claim: ResponseClaimSegment | None = None
    pricing: ResponsePricingSegment | None = None
    dur: ResponseDurSegment | None = None


class ClaimResponse(Frozen):
    """A response transmission: header echo, optional message and insurance, one answer per transaction."""

    transaction_code: ClaimTransactionCode = "B1"
    #: 501-F1: A accepted (each transaction has its own status), R the whole transmission was rejected
    header_response_status: str = Field(default="A", pattern=r"^[AR]$")
    service_provider_id_qualifier: str = Field(default="01", max_length=2)
    service_provider_id: str = Field(max_length=15)
    date_of_service: date
    message: str | None = None
    insurance: ResponseInsuranceSegment | None = None
    transactions: tuple[TransactionResponse, ...] = Field(min_length=1, max_length=MAX_TRANSACTIONS)


def response_to(
    request: ClaimRequest, transactions: tuple[TransactionResponse, ...], message: str | None = None
) -> ClaimResponse:
    """A response echoing the request's header, accepted at transmission level."""
    return ClaimResponse(
        transaction_code=request.transaction_code,
        service_provider_id_qualifier=request.service_provider_id_qualifier,
        service_provider_id=request.service_provider_id,
        date_of_service=request.date_of_service,
        message=message,
        transactions=transactions,
    )


def claim_response_transmission(response: ClaimResponse) -> ResponseTransmission:
    """The raw transmission for a response."""
    header = ResponseHeader(
        transaction_code=response.transaction_code,
        transaction_count=len(response.transactions),
        header_response_status=response.header_response_status,
        service_provider_id_qualifier=response.service_provider_id_qualifier,
        service_provider_id=response.service_provider_id,
        date_of_service=response.date_of_service,
    )
    message = ResponseMessageSegment(message=response.message) if response.message else None
    level = segments_of(message, response.insurance)
    groups = tuple(
        TransactionGroup(segments=segments_of(t.status, t.claim, t.pricing, t.dur)) for t in response.transactions
    )
    return ResponseTransmission(header=header, segments=level, groups=groups)


def build_claim_response(response: ClaimResponse) -> bytes:
    """Bytes to send back for a response."""
    return build_transmission(claim_response_transmission(response))


def read_claim_response(transmission: ResponseTransmission) -> ClaimResponse:
    """The typed response; every transaction group must carry an AM21 status."""
    header = transmission.header
    if header.transaction_code not in ("B1", "B2", "B3", "E1"):
        raise content_error("1S", f"103-A3 transaction code {header.transaction_code} is not supported", "A3")
    if not transmission.groups:
        raise content_error(SYNTAX_ERROR_CODE, "response has no transaction group with an AM21 status", "AM21")
    message = view_of(ResponseMessageSegment, transmission.segment("20"))
    return ClaimResponse(
        transaction_code=cast(ClaimTransactionCode, header.transaction_code),
        header_response_status=header.header_response_status,
        service_provider_id_qualifier=header.service_provider_id_qualifier,
        service_provider_id=header.service_provider_id,
        date_of_service=header.date_of_service,
        message=message.message if message else None,
        insurance=view_of(ResponseInsuranceSegment, transmission.segment("25")),
        transactions=tuple(_read_transaction(g, n) for n, g in enumerate(transmission.groups, start=1)),
    )


def _read_transaction(group: TransactionGroup, number: int) -> TransactionResponse:
    status = view_of(ResponseStatusSegment, group.segment("21"))
    if status is None:
        raise content_error(
            SYNTAX_ERROR_CODE, f"transaction group {number} has no AM21 response status segment", "AM21"
        )
    return TransactionResponse(
        status=status,
        claim=view_of(ResponseClaimSegment, group.segment("22")),
        pricing=view_of(ResponsePricingSegment, group.segment("23")),
        dur=view_of(ResponseDurSegment, group.segment("24")),
    )
