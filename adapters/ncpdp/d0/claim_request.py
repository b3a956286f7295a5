"""B1 billing, B2 reversal, B3 rebill and E1 eligibility requests as one typed model, to bytes and back.

Standards.md §4.1/§4.2: AM04 insurance and AM01 patient travel at transmission level; each of up to four
transactions carries its AM07 claim plus optional AM02, AM03, AM05, AM08, AM11 and AM10 (a compound's ingredients).
"""

from __future__ import annotations

from datetime import date
from typing import Literal, Self, cast

from pydantic import Field, model_validator

from adapters.ncpdp.d0.builder import build_transmission
from adapters.ncpdp.d0.cob_segment import CobSegment
from adapters.ncpdp.d0.compound_segment import CompoundSegment
from adapters.ncpdp.d0.content_errors import content_error
from adapters.ncpdp.d0.model import (
    MAX_TRANSACTIONS,
    RequestHeader,
    RequestTransmission,
    Segment,
    TransactionGroup,
)
from adapters.ncpdp.d0.request_segments import (
    ClaimSegment,
    DurPpsSegment,
    InsuranceSegment,
    PatientSegment,
    PharmacyProviderSegment,
    PrescriberSegment,
    PricingSegment,
)
from adapters.ncpdp.d0.segment_view import segments_of, view_of
from hub.domain.claim_codes import SYNTAX_ERROR_CODE
from hub.domain.order_parts import Frozen

ClaimTransactionCode = Literal["B1", "B2", "B3", "E1"]


class ClaimTransaction(Frozen):
    """One claim (or reversal) of a transmission."""

    claim: ClaimSegment
    pharmacy_provider: PharmacyProviderSegment | None = None
    prescriber: PrescriberSegment | None = None
    #: AM05: what the primary paid or rejected, on a claim to a secondary payer
    cob: CobSegment | None = None
    dur_pps: DurPpsSegment | None = None
    pricing: PricingSegment | None = None
    #: AM10: the ingredients of a compound claim (406-D6 = 2)
    compound: CompoundSegment | None = None


class ClaimRequest(Frozen):
    """What a pharmacy sends a payer: routing (BIN/PCN), who bills, for whom, and one to four claims."""

    transaction_code: ClaimTransactionCode = "B1"
    bin: str = Field(min_length=1, max_length=6)
    processor_control_number: str = Field(default="", max_length=10)
    service_provider_id_qualifier: str = Field(default="01", max_length=2)
    service_provider_id: str = Field(max_length=15)
    date_of_service: date
    software_vendor_id: str = Field(default="", max_length=10)
    insurance: InsuranceSegment | None = None
    patient: PatientSegment | None = None
    transactions: tuple[ClaimTransaction, ...] = Field(default=(), max_length=MAX_TRANSACTIONS)

    @model_validator(mode="after")
    def _claims_need_a_transaction(self) -> Self:
        if self.transaction_code != "E1" and not self.transactions:
            raise ValueError(f"a {self.transaction_code} request needs one to four transactions")
        return self


def claim_request_transmission(request: ClaimRequest) -> RequestTransmission:
    """The raw transmission for a request (E1 may have no transaction; B1/B2/B3 need one to four)."""
    header = RequestHeader(
        bin=request.bin,
        transaction_code=request.transaction_code,
        processor_control_number=request.processor_control_number,
        transaction_count=max(len(request.transactions), 1),
        service_provider_id_qualifier=request.service_provider_id_qualifier,
        service_provider_id=request.service_provider_id,
        date_of_service=request.date_of_service,
        software_vendor_id=request.software_vendor_id,
    )
    level = segments_of(request.insurance, request.patient)
    groups = tuple(TransactionGroup(segments=_transaction_segments(t)) for t in request.transactions)
    return RequestTransmission(header=header, segments=level, groups=groups)


def build_claim_request(request: ClaimRequest) -> bytes:
    """Bytes to send for a request."""
    return build_transmission(claim_request_transmission(request))


def read_claim_request(transmission: RequestTransmission) -> ClaimRequest:
    """The typed request; B1/B2/B3 without an AM07 claim in every transaction are rejected."""
    header = transmission.header
    if header.transaction_code not in ("B1", "B2", "B3", "E1"):
        text = f"103-A3 transaction code {header.transaction_code} is not supported"
        raise content_error("1S", text, "A3")
    if header.transaction_code != "E1" and not transmission.groups:
        raise content_error(SYNTAX_ERROR_CODE, "no transaction group: a claim needs an AM07 claim segment", "AM07")
    return ClaimRequest(
        transaction_code=cast(ClaimTransactionCode, header.transaction_code),
        bin=header.bin,
        processor_control_number=header.processor_control_number,
        service_provider_id_qualifier=header.service_provider_id_qualifier,
        service_provider_id=header.service_provider_id,
        date_of_service=header.date_of_service,
        software_vendor_id=header.software_vendor_id,
        insurance=view_of(InsuranceSegment, transmission.segment("04")),
        patient=view_of(PatientSegment, transmission.segment("01")),
        transactions=tuple(_read_transaction(g, n) for n, g in enumerate(transmission.groups, start=1)),
    )


def _read_transaction(group: TransactionGroup, number: int) -> ClaimTransaction:
    claim = view_of(ClaimSegment, group.segment("07"))
    if claim is None:
        raise content_error(SYNTAX_ERROR_CODE, f"transaction group {number} has no AM07 claim segment", "AM07")
    return ClaimTransaction(
        claim=claim,
        pharmacy_provider=view_of(PharmacyProviderSegment, group.segment("02")),
        prescriber=view_of(PrescriberSegment, group.segment("03")),
        cob=view_of(CobSegment, group.segment("05")),
        dur_pps=view_of(DurPpsSegment, group.segment("08")),
        pricing=view_of(PricingSegment, group.segment("11")),
        compound=view_of(CompoundSegment, group.segment("10")),
    )


def _transaction_segments(transaction: ClaimTransaction) -> tuple[Segment, ...]:
    t = transaction
    return segments_of(t.claim, t.pharmacy_provider, t.prescriber, t.cob, t.dur_pps, t.pricing, t.compound)
