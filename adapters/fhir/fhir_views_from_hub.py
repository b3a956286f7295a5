"""Hub records -> the small snapshots ``views`` renders: the one place FHIR reads touch the hub's aggregates.

Ids a client sees (FHIR R4 Resource.id, at most 64 of ``[A-Za-z0-9-.]``):

* MedicationRequest: the order's correlation id (``order_correlation_id`` of its placer identifier), known
  when the order is POSTed, before a worker has recorded it;
* MedicationDispense: ``<MedicationRequest id>-<fill number>`` (0 = the original fill);
* ClaimResponse: ``<MedicationRequest id>-<fill number>-claim`` (the latest answer for that fill);
* Patient: the hub's patient id; and ``<MedicationRequest id>-patient``, the patient as that order names
  them, which the door gives out before a worker has matched the order to a profile (``order_patients``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from adapters.fhir.snapshots import ClaimSnapshot, FillSnapshot, PatientSnapshot, PrescriptionSnapshot
from hub.domain.commands import ReceivePrescription
from hub.domain.fill import Fill
from hub.domain.order_parts import QuantityInfo
from hub.domain.parties import Patient
from hub.domain.prescription import Prescription
from hub.messaging.envelope import order_correlation_id


def request_id(rx: Prescription) -> str:
    """The MedicationRequest id of a prescription (its correlation id, whatever door it came in by)."""
    return str(order_correlation_id(rx.placer_system, rx.placer_order_number, owner=rx.owner))


def dispense_id(rx: Prescription, fill: Fill) -> str:
    """The MedicationDispense id of one fill."""
    return f"{request_id(rx)}-{fill.fill_number}"


def _name(*parts: str | None) -> str | None:
    return " ".join(p for p in parts if p) or None


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _changed(fill: Fill) -> datetime:
    return _utc(fill.history[-1].at if fill.history else fill.created_at)


def prescription_snapshot(rx: Prescription) -> PrescriptionSnapshot:
    """The prescription as ordered, with the state of its current fill."""
    return PrescriptionSnapshot(
        id=request_id(rx),
        placer_order_number=rx.placer_order_number,
        placer_system=rx.placer_system,
        state=rx.state.value,
        drug=rx.drug,
        quantity=rx.quantity,
        days_supply=rx.days_supply,
        refills=rx.refills_authorized,
        refills_remaining=rx.refills_remaining,
        sig=rx.sig,
        substitution_allowed=rx.substitution_allowed,
        patient_id=rx.patient_id,
        prescriber_npi=rx.prescriber.npi,
        prescriber_name=_name(rx.prescriber.given_name, rx.prescriber.family_name),
        written_date=rx.written_date,
        setting=rx.setting,
        last_updated=max([_utc(rx.received_at), *(_changed(f) for f in rx.fills)]),
    )


def order_patient_id(resource_id: str) -> str:
    """The Patient id of the patient the order with this MedicationRequest id names."""
    return f"{resource_id}-patient"


def accepted_snapshot(command: ReceivePrescription, resource_id: str, now: datetime) -> PrescriptionSnapshot:
    """An order just accepted, as the hub will hold it: received, its patient named by the order's Patient id."""
    patient = command.patient
    return PrescriptionSnapshot(
        id=resource_id,
        placer_order_number=command.placer_order_number,
        placer_system=command.placer_system,
        state="received",
        drug=command.drug,
        quantity=command.quantity,
        days_supply=command.days_supply,
        refills=command.refills,
        refills_remaining=command.refills,
        sig=command.sig,
        substitution_allowed=command.substitution_allowed,
        patient_id=order_patient_id(resource_id),
        patient_display=_name(patient.given_name, patient.family_name),
        prescriber_npi=command.prescriber.npi,
        prescriber_name=_name(command.prescriber.given_name, command.prescriber.family_name),
        written_date=command.written_date,
        setting=command.setting,
        last_updated=now,
    )


def _dispensed_quantity(rx: Prescription, fill: Fill) -> QuantityInfo | None:
    value: Decimal | None = fill.quantity_dispensed if fill.quantity_dispensed is not None else fill.quantity
    if value is None:
        return rx.quantity
    unit = rx.product.unit if rx.product else (rx.quantity.unit if rx.quantity else None)
    return QuantityInfo(value=value, unit=unit)


def fill_snapshot(rx: Prescription, fill: Fill) -> FillSnapshot:
    """One fill; with several lots picked the lot numbers are listed and the earliest expiry kept.

    R4 Medication.batch holds one lot, and the label lists every lot anyway.
    """
    product = rx.product
    return FillSnapshot(
        id=dispense_id(rx, fill),
        prescription_id=request_id(rx),
        patient_id=rx.patient_id,
        fill_number=fill.fill_number,
        state=fill.state.value,
        ndc=fill.ndc or (product.ndc11 if product else None),
        drug_text=_name(product.name, product.strength, product.form) if product else rx.drug.text,
        quantity=_dispensed_quantity(rx, fill),
        days_supply=fill.days_supply if fill.days_supply is not None else rx.days_supply,
        lot=", ".join(p.lot for p in fill.picks) or None,
        expiry=min((p.expiry for p in fill.picks), default=None),
        when_prepared=fill.filled_at,
        when_handed_over=fill.dispensed_at,
        last_updated=_changed(fill),
    )


def claim_snapshot(rx: Prescription, fill: Fill) -> ClaimSnapshot | None:
    """The payer's latest answer for a fill; None when the fill was never billed (inpatient, not yet)."""
    claim = fill.claim
    if claim is None:
        return None
    return ClaimSnapshot(
        id=f"{dispense_id(rx, fill)}-claim",
        fill_id=dispense_id(rx, fill),
        patient_id=rx.patient_id,
        status=claim.status.value,
        created=claim.submitted_at or fill.created_at,
        bin=claim.bin,
        submitted_amount=claim.amount_requested,
        total_paid=claim.total_paid,
        patient_pay=claim.patient_pay,
        reject_codes=tuple(claim.reject_codes),
        authorization_number=claim.authorization_number,
        message=claim.payer_message,
    )


def fill_snapshots(rx: Prescription) -> list[FillSnapshot]:
    """Every fill of the prescription, original first."""
    return [fill_snapshot(rx, fill) for fill in rx.fills]


def claim_snapshots(rx: Prescription) -> list[ClaimSnapshot]:
    """The claim answer of every billed fill, original first."""
    return [c for c in (claim_snapshot(rx, fill) for fill in rx.fills) if c is not None]


def patient_snapshot(patient: Patient) -> PatientSnapshot:
    """A patient profile as the Patient view needs it."""
    return PatientSnapshot(id=patient.patient_id, patient=patient.info)
