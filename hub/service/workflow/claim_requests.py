"""The claim a fill is billed with: the D.0 request data built from the prescription, patient and payer sheet."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from hub.domain.claim_exchange import ClaimPatient, ClaimRequestData, ClaimTransaction
from hub.domain.coordination import payments_before
from hub.domain.order_parts import CoverageInfo, Identifier, Source
from hub.domain.partial_claims import claim_quantities
from hub.domain.payer_sheet import BASIS_OF_COST, PayerSheet
from hub.domain.prescription import Prescription
from hub.domain.workflow_commands import SendClaim
from hub.service.unit_of_work import UnitOfWork
from hub.service.workflow.compound_claims import compound_billing, compound_clarification
from hub.service.workflow.context import WorkflowContext

#: NCPDP 419-DJ prescription origin by the door the order came through (0 unknown: staff-entered orders
#: may be written, faxed or transferred, which the hub is not told)
ORIGIN_CODES = {Source.SCRIPT: "3", Source.HL7: "3", Source.FHIR: "3", Source.VERBAL: "2", Source.API: "0"}


def claim_request(
    uow: UnitOfWork, ctx: WorkflowContext, rx: Prescription, command: SendClaim, attempt: int, xid: str
) -> ClaimRequestData:
    fill = rx.fill(command.fill_number)
    claim = fill.claim_of(attempt) or fill.claim
    assert claim is not None and claim.bin is not None
    patient = uow.parties.patient(rx.patient_id)
    info = patient.info if patient else None
    gender = {"M": "1", "F": "2"}.get((info.sex or "") if info else "", "0")
    cardholder = claim.cardholder_id or _member_id(info.identifiers if info else ())
    coverage = ctx.default_coverage or CoverageInfo()
    return ClaimRequestData(
        exchange_id=xid,
        prescription_id=rx.prescription_id,
        fill_number=fill.fill_number,
        attempt=attempt,
        transaction=ClaimTransaction(command.transaction),
        bin=claim.bin,
        pcn=claim.pcn,
        group_id=claim.group_id or coverage.group_id,
        cardholder_id=cardholder,
        person_code=claim.person_code or coverage.person_code,
        relationship=coverage.relationship or "1",
        patient=ClaimPatient(
            first_name=info.given_name if info else None,
            last_name=info.family_name if info else None,
            birth_date=info.birth_date if info else None,
            gender_code=gender,
        ),
        prescriber_npi=rx.prescriber.npi,
        prescriber_last_name=rx.prescriber.family_name,
        pharmacy_npi=ctx.pharmacy_npi,
        rx_number=rx.rx_number,
        ndc=fill.ndc or (rx.product.ndc11 if rx.product else ""),
        **claim_quantities(rx.rx_number, rx.fills, fill, attempt).model_dump(),
        written_date=rx.written_date,
        refills_authorized=rx.refills_authorized,
        daw_code="0" if rx.substitution_allowed else "1",
        prior_auth_number=claim.prior_auth_number,
        dur_pps=(
            (claim.dur_pps.reason_for_service, claim.dur_pps.professional_service, claim.dur_pps.result_of_service),
        )
        if claim.dur_pps
        else (),
        date_of_service=(claim.submitted_at or rx.received_at).date(),
        clarification_codes=compound_clarification(ctx, rx, claim.clarification_codes),
        schedule=rx.schedule,
        quantity_prescribed=rx.quantity.value if rx.quantity else None,
        origin_code=ORIGIN_CODES.get(rx.source),
        unit_of_measure=rx.product.unit if rx.product else None,
        other_payments=payments_before(fill, claim),
        **{
            **_pricing(ctx.payer_sheets.for_plan(claim.bin, claim.pcn), rx, fill.quantity, claim.amount_requested),
            **compound_billing(ctx, rx, claim.bin, claim.pcn),
        },
    )


def _pricing(
    sheet: PayerSheet | None, rx: Prescription, quantity: Decimal | None, usual: Decimal | None
) -> dict[str, Any]:
    """AM11 amounts: U&C always; ingredient cost, fee and basis on the plan's cost basis when it has one."""
    unit_cost = sheet.unit_cost(rx.product) if sheet and rx.product else None
    if sheet is None or unit_cost is None or quantity is None:
        return {
            "usual_and_customary": usual,
            "gross_amount_due": usual,
            "other_coverage_code": sheet.other_coverage_code if sheet else None,
        }
    ingredient = (unit_cost * quantity).quantize(Decimal("0.01"))
    return {
        "usual_and_customary": usual,
        "ingredient_cost": ingredient,
        "dispensing_fee": sheet.dispensing_fee,
        "basis_of_cost": BASIS_OF_COST[sheet.cost_basis],
        "gross_amount_due": ingredient + sheet.dispensing_fee,
        "other_coverage_code": sheet.other_coverage_code,
    }


def _member_id(identifiers: tuple[Identifier, ...]) -> str | None:
    """The pharmacy's house plan bills under the patient's record number when no card is on file."""
    return identifiers[0].value if identifiers else None
