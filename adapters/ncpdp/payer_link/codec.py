"""The hub's ``ClaimCodec`` for NCPDP D.0: a ``ClaimRequestData`` becomes one B1/B2/B3 transmission.

One claim per transmission (109-A9 = 1), so the payer's answer maps back to exactly one exchange id.
Field choices follow standards.md §4.1/§4.2; a B2 carries only what identifies the paid claim.
"""

from __future__ import annotations

import unicodedata

from pydantic import ValidationError

from adapters.ncpdp.d0.claim_request import (
    ClaimRequest,
    ClaimTransaction,
    ClaimTransactionCode,
    build_claim_request,
)
from adapters.ncpdp.d0.cob_segment import QUALIFIER_BIN, CobSegment, OtherPayer, OtherPayerAmount
from adapters.ncpdp.d0.request_segments import (
    ClaimSegment,
    DurPps,
    DurPpsSegment,
    InsuranceSegment,
    PatientSegment,
    PrescriberSegment,
    PricingSegment,
)
from adapters.ncpdp.payer_link.compound_codes import compound_claim_ids, compound_segment
from hub.domain.claim_exchange import ClaimRequestData, EncodedClaim, OtherPayment, coverage_code_after
from hub.domain.claim_exchange import ClaimTransaction as TransactionCode
from hub.domain.eligibility import EligibilityRequestData
from hub.errors import DomainError

#: 202-B2 / 466-EZ qualifier 01 = NPI
NPI_QUALIFIER = "01"
#: 455-EM 1 = Rx billing
RX_BILLING = "1"
#: 436-E1 03 = NDC
NDC_QUALIFIER = "03"
#: 461-EU 1 = prior authorization (unverified: the value list is in NCPDP's licensed dictionary)
PRIOR_AUTHORIZATION = "1"
#: AM08 repeats at most nine times (standards.md §4.2)
MAX_DUR_PPS = 9
#: the routing word standing for "no PCN" in ``<BIN>.<PCN or ->``
NO_PCN = "-"
_CODES: dict[TransactionCode, ClaimTransactionCode] = {
    TransactionCode.BILLING: "B1",
    TransactionCode.REVERSAL: "B2",
    TransactionCode.REBILL: "B3",
}


def routing_key(bin_: str, pcn: str | None) -> str:
    """``<BIN>.<PCN or ->``: payer connectors bind by BIN (``999001.#``) or by BIN and PCN."""
    word = (pcn or "").strip().replace(".", "_")
    return f"{bin_.strip()}.{word or NO_PCN}"


def wire_name(text: str | None) -> str | None:
    """A name as printable ASCII (``José`` -> ``Jose``): D.0 fields cannot carry other characters."""
    if text is None:
        return None
    decomposed = unicodedata.normalize("NFKD", text)
    ascii_only = "".join(c for c in decomposed if c.isascii() and c.isprintable())
    return ascii_only.strip() or None


class D0ClaimCodec:
    """Encodes claims as NCPDP D.0 request transmissions for the payer exchange."""

    def __init__(self, software_vendor_id: str = "RXHUB") -> None:
        self.software_vendor_id = software_vendor_id

    def encode(self, request: ClaimRequestData) -> EncodedClaim:
        """The D.0 bytes and routing key.

        Raises DomainError when D.0 cannot carry a value (too long, too precise, too many repeats):
        resending the same claim would fail the same way.
        """
        try:
            body = build_claim_request(self.claim_request(request))
        except ValueError as exc:  # pydantic's ValidationError is a ValueError too
            text = f"claim {request.exchange_id} cannot be sent as D.0: {_describe(exc)}"
            raise DomainError(text) from exc
        return EncodedClaim(routing_key=routing_key(request.bin, request.pcn), body=body)

    def encode_eligibility(self, request: EligibilityRequestData) -> EncodedClaim:
        """An E1 eligibility check, routed like a claim to the plan's BIN/PCN."""
        try:
            body = build_claim_request(_eligibility_request(self, request))
        except ValueError as exc:
            text = f"eligibility check {request.exchange_id} cannot be sent as D.0: {_describe(exc)}"
            raise DomainError(text) from exc
        return EncodedClaim(routing_key=routing_key(request.bin, request.pcn), body=body)

    def claim_request(self, request: ClaimRequestData) -> ClaimRequest:
        """The typed D.0 request (exposed so tests and tools can inspect it before it becomes bytes)."""
        reversal = request.transaction is TransactionCode.REVERSAL
        return ClaimRequest(
            transaction_code=_CODES[request.transaction],
            bin=request.bin,
            processor_control_number=(request.pcn or "").strip(),
            service_provider_id_qualifier=NPI_QUALIFIER,
            service_provider_id=request.pharmacy_npi,
            date_of_service=request.date_of_service,
            software_vendor_id=self.software_vendor_id,
            insurance=_insurance(request),
            patient=None if reversal else _patient(request),
            transactions=(_reversal(request) if reversal else _billing(request),),
        )


def _eligibility_request(codec: D0ClaimCodec, request: EligibilityRequestData) -> ClaimRequest:
    """E1: header, AM04 insurance and AM01 patient, no claim (standards.md §4.1)."""
    return ClaimRequest(
        transaction_code="E1",
        bin=request.bin,
        processor_control_number=(request.pcn or "").strip(),
        service_provider_id_qualifier=NPI_QUALIFIER,
        service_provider_id=request.pharmacy_npi,
        date_of_service=request.date_of_service,
        software_vendor_id=codec.software_vendor_id,
        insurance=InsuranceSegment(
            cardholder_id=request.cardholder_id,
            group_id=request.group_id,
            person_code=request.person_code,
            relationship=request.relationship,
        ),
        patient=PatientSegment(
            date_of_birth=request.patient.birth_date,
            gender=request.patient.gender_code,
            first_name=wire_name(request.patient.first_name),
            last_name=wire_name(request.patient.last_name),
        ),
    )


def _describe(error: ValueError) -> str:
    """What is wrong, without the offending value: it may be a patient's name or member id."""
    if isinstance(error, ValidationError):
        # pydantic's own messages never quote the input; a custom validator's ValueError may
        parts = [
            f"{'.'.join(map(str, e['loc']))}: {'invalid value' if e['type'] == 'value_error' else e['msg']}"
            for e in error.errors()
        ]
        return "; ".join(parts)
    return str(error)


def _insurance(request: ClaimRequestData) -> InsuranceSegment | None:
    segment = InsuranceSegment(
        cardholder_id=request.cardholder_id,
        group_id=request.group_id,
        person_code=request.person_code,
        relationship=request.relationship,
    )
    return segment if segment.to_segment().fields else None


def _patient(request: ClaimRequestData) -> PatientSegment:
    patient = request.patient
    return PatientSegment(
        date_of_birth=patient.birth_date,
        gender=patient.gender_code,
        first_name=wire_name(patient.first_name),
        last_name=wire_name(patient.last_name),
    )


def _reversal(request: ClaimRequestData) -> ClaimTransaction:
    # B2 needs only what matches the paid claim: 455-EM, 402-D2, 436-E1, 407-D7, 403-D3 (standards.md §4.2);
    # 343-HD too for a partial fill or its completion, which share the Rx and fill number (unverified)
    claim = ClaimSegment(
        rx_reference_qualifier=RX_BILLING,
        rx_number=request.rx_number,
        product_id_qualifier=NDC_QUALIFIER,
        product_id=request.ndc,
        fill_number=request.fill_number,
        dispensing_status=request.dispensing_status,
    )
    return ClaimTransaction(claim=claim.model_copy(update=compound_claim_ids(request)))


def _billing(request: ClaimRequestData) -> ClaimTransaction:
    return ClaimTransaction(
        claim=_claim(request),
        prescriber=_prescriber(request),
        cob=_cob(request),
        dur_pps=_dur_pps(request),
        pricing=_pricing(request),
        compound=compound_segment(request),
    )


def _claim(request: ClaimRequestData) -> ClaimSegment:
    pa_number = request.prior_auth_number or None
    return ClaimSegment(
        rx_reference_qualifier=RX_BILLING,
        rx_number=request.rx_number,
        product_id_qualifier=NDC_QUALIFIER,
        product_id=request.ndc,
        quantity_dispensed=request.quantity,
        fill_number=request.fill_number,
        days_supply=request.days_supply,
        daw_code=request.daw_code,
        date_written=request.written_date,
        refills_authorized=request.refills_authorized,
        prior_auth_type=PRIOR_AUTHORIZATION if pa_number else None,
        prior_auth_number=pa_number,
        submission_clarification_codes=request.clarification_codes,
        origin_code=request.origin_code,
        quantity_prescribed=request.quantity_prescribed,
        other_coverage_code=(
            coverage_code_after(request.other_payments) if request.other_payments else request.other_coverage_code
        ),
        unit_of_measure=request.unit_of_measure,
        dispensing_status=request.dispensing_status,
        quantity_intended=request.quantity_intended,
        days_supply_intended=request.days_supply_intended,
        associated_rx_number=request.associated_rx_number,
        associated_date=request.associated_date,
    ).model_copy(update=compound_claim_ids(request))


def _prescriber(request: ClaimRequestData) -> PrescriberSegment | None:
    if not request.prescriber_npi:
        return None
    return PrescriberSegment(
        prescriber_id_qualifier=NPI_QUALIFIER,
        prescriber_id=request.prescriber_npi,
        last_name=wire_name(request.prescriber_last_name),
    )


def _cob(request: ClaimRequestData) -> CobSegment | None:
    """AM05 for a secondary claim: each earlier payer by BIN with what it paid or why it rejected."""
    if not request.other_payments:
        return None
    return CobSegment(other_payers=tuple(_other_payer(p) for p in request.other_payments))


def _other_payer(payment: OtherPayment) -> OtherPayer:
    paid = () if payment.amount_paid is None else (OtherPayerAmount(amount=payment.amount_paid),)
    return OtherPayer(
        coverage_type=f"{payment.sequence:02d}",
        id_qualifier=QUALIFIER_BIN,
        payer_id=payment.bin,
        payer_date=payment.answered_on,
        amounts_paid=paid,
        reject_codes=payment.reject_codes,
    )


def _dur_pps(request: ClaimRequestData) -> DurPpsSegment | None:
    if not request.dur_pps:
        return None
    if len(request.dur_pps) > MAX_DUR_PPS:
        raise ValueError(f"{len(request.dur_pps)} DUR/PPS sets; AM08 carries at most {MAX_DUR_PPS}")
    entries = tuple(
        DurPps(counter=str(n), reason=reason, professional_service=service, result=result)
        for n, (reason, service, result) in enumerate(request.dur_pps, start=1)
    )
    return DurPpsSegment(entries=entries)


def _pricing(request: ClaimRequestData) -> PricingSegment | None:
    amounts = (request.usual_and_customary, request.gross_amount_due, request.ingredient_cost, request.dispensing_fee)
    if all(a is None for a in amounts):
        return None
    return PricingSegment(
        ingredient_cost=request.ingredient_cost,
        dispensing_fee=request.dispensing_fee,
        usual_and_customary=request.usual_and_customary,
        gross_amount_due=request.gross_amount_due,
        basis_of_cost=request.basis_of_cost,
    )
