"""Hub state rendered as R4 JSON: MedicationRequest, MedicationDispense, ClaimResponse, Patient.

Status maps (standards.md §2.2): a fill being entered, billed, checked or counted is ``preparation``;
checked and waiting in the will-call bin is ``in-progress``; handed over is ``completed`` (US Core
us-core-20 then needs whenHandedOver); returned to stock is ``cancelled`` ("will never be picked
up"); refused by the pharmacist is ``declined``. Lot and expiry live on the dispensed Medication
(R4 Medication.batch), so a dispense carries its product as a contained Medication.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from adapters.fhir.compound import compound_medication
from adapters.fhir.identifier_types import identifier_type
from adapters.fhir.mapping import CATEGORY
from adapters.fhir.medication import NDC, RXNORM
from adapters.fhir.participants import NPI
from adapters.fhir.snapshots import ClaimSnapshot, FillSnapshot, PatientSnapshot, PrescriptionSnapshot
from adapters.fhir.stamps import stamped
from hub.domain.compound import COMPOUND_PRODUCT_ID
from hub.domain.order_parts import DrugInfo, Identifier, QuantityInfo, Setting
from hub.domain.patient_identity import all_as_sent

ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
UCUM = "http://unitsofmeasure.org"
#: CARIN RTPBC NamingSystem for NCPDP Reject Code 511-FB (HL7 THO later published
#: http://terminology.hl7.org/CodeSystem/NCPDPRejectCode for the same code set)
NCPDP_REJECT_CODE = "http://ncpdp.org/reject-code"
ADJUDICATION = "http://terminology.hl7.org/CodeSystem/adjudication"
C4BB_ADJUDICATION = "http://hl7.org/fhir/us/carin-bb/CodeSystem/C4BBAdjudication"

_ACTIVE = ("received", "needs_product", "claim_pending", "claim_rejected", "data_verification", "filling")
REQUEST_STATUS = {
    **dict.fromkeys((*_ACTIVE, "product_verification", "ready", "returned_to_stock"), "active"),
    "on_hold": "on-hold",
    "cancelled": "cancelled",
    "rejected": "cancelled",
    "expired": "completed",
    "dispensed": "completed",
}
DISPENSE_STATUS = {
    **dict.fromkeys(_ACTIVE, "preparation"),
    "product_verification": "in-progress",
    "ready": "in-progress",
    "dispensed": "completed",
    "returned_to_stock": "cancelled",
    "cancelled": "cancelled",
    "rejected": "declined",
    "on_hold": "on-hold",
}
CLAIM_OUTCOME = {
    "submitted": "queued",
    "paid": "complete",
    "rejected": "error",
    "reversal_required": "complete",
    "reversed": "complete",
    "cash": "complete",
}


def _instant(moment: datetime) -> str:
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).isoformat(timespec="seconds")


def _number(value: Decimal) -> int | float:
    # JSON has no decimal type; integral values stay integers so "30" does not become "30.0"
    return int(value) if value == value.to_integral() else float(value)


def _identifier(found: Identifier) -> dict[str, Any]:
    result: dict[str, Any] = {"value": found.value}
    if found.system:
        result["system"] = found.system
    if found.type_code:
        result["type"] = identifier_type(found.type_code)
    return result


def _concept(drug: DrugInfo) -> dict[str, Any]:
    codings = [{"system": NDC, "code": drug.ndc}] if drug.ndc else []
    codings += [{"system": RXNORM, "code": drug.rxnorm}] if drug.rxnorm else []
    for other in drug.other_codes:
        coding = {"code": other.code} | ({"system": other.system} if other.system else {})
        codings.append(coding | ({"display": other.display} if other.display else {}))
    concept: dict[str, Any] = {"coding": codings} if codings else {}
    return concept | ({"text": drug.text} if drug.text else {})


def _quantity(quantity: QuantityInfo) -> dict[str, Any]:
    return {"value": _number(quantity.value)} | ({"unit": quantity.unit} if quantity.unit else {})


def _days(days: int) -> dict[str, Any]:
    return {"value": days, "unit": "days", "system": UCUM, "code": "d"}


def _dispense_request(rx: PrescriptionSnapshot) -> dict[str, Any]:
    request: dict[str, Any] = {"numberOfRepeatsAllowed": rx.refills}
    if rx.quantity is not None:
        request["quantity"] = _quantity(rx.quantity)
    if rx.days_supply is not None:
        request["expectedSupplyDuration"] = _days(rx.days_supply)
    return request


def _request_status(rx: PrescriptionSnapshot) -> str:
    status = REQUEST_STATUS.get(rx.state.lower(), "unknown")
    if status == "completed" and rx.state.lower() == "dispensed" and (rx.refills_remaining or 0) > 0:
        return "active"
    return status


def _subject(rx: PrescriptionSnapshot) -> dict[str, Any]:
    subject = {"reference": f"Patient/{rx.patient_id}"}
    return subject | ({"display": rx.patient_display} if rx.patient_display else {})


def medication_request_view(rx: PrescriptionSnapshot) -> dict[str, Any]:
    """A prescription as an R4 MedicationRequest (US Core must-support elements)."""
    placer = Identifier(value=rx.placer_order_number, system=rx.placer_system, type_code="PLAC")
    requester: dict[str, Any] = {"identifier": {"system": NPI, "value": rx.prescriber_npi}} if rx.prescriber_npi else {}
    requester |= {"display": rx.prescriber_name} if rx.prescriber_name else {}
    category = "inpatient" if rx.setting is Setting.INPATIENT else "outpatient"
    view: dict[str, Any] = {
        "resourceType": "MedicationRequest",
        "id": rx.id,
        "identifier": [_identifier(placer)],
        "status": _request_status(rx),
        "intent": "order",
        "category": [{"coding": [{"system": CATEGORY, "code": category}]}],
        **_medication(rx),
        "subject": _subject(rx),
        "dispenseRequest": _dispense_request(rx),
        "substitution": {"allowedBoolean": rx.substitution_allowed},
    }
    if rx.written_date is not None:
        view["authoredOn"] = rx.written_date.isoformat()
    if requester:
        view["requester"] = requester
    if rx.sig:
        view["dosageInstruction"] = [{"text": rx.sig}]
    return stamped(view, rx.last_updated)


def _medication(rx: PrescriptionSnapshot) -> dict[str, Any]:
    """medicationCodeableConcept, or a compound as a contained Medication listing every ingredient."""
    if rx.drug.compound is None:
        return {"medicationCodeableConcept": _concept(rx.drug)}
    compound = compound_medication(rx.drug.compound, _concept(rx.drug), rx.quantity)
    return {"contained": [compound], "medicationReference": {"reference": f"#{compound['id']}"}}


def _dispensed_medication(fill: FillSnapshot) -> dict[str, Any]:
    # a compound has no NDC of its own: the hub's placeholder product id is not one to show
    drug = DrugInfo(ndc=None if fill.ndc == COMPOUND_PRODUCT_ID else fill.ndc, text=fill.drug_text)
    medication: dict[str, Any] = {"resourceType": "Medication", "id": "med", "code": _concept(drug)}
    batch = ({"lotNumber": fill.lot} if fill.lot else {}) | (
        {"expirationDate": fill.expiry.isoformat()} if fill.expiry else {}
    )
    return medication | ({"batch": batch} if batch else {})


def medication_dispense_view(fill: FillSnapshot) -> dict[str, Any]:
    """A fill as an R4 MedicationDispense; the product (NDC, lot, expiry) is a contained Medication."""
    view: dict[str, Any] = {
        "resourceType": "MedicationDispense",
        "id": fill.id,
        "contained": [_dispensed_medication(fill)],
        "status": DISPENSE_STATUS.get(fill.state.lower(), "unknown"),
        "medicationReference": {"reference": "#med"},
        "subject": {"reference": f"Patient/{fill.patient_id}"},
        "authorizingPrescription": [{"reference": f"MedicationRequest/{fill.prescription_id}"}],
        # v3 ActPharmacySupplyType: FF first fill, RF refill
        "type": {"coding": [{"system": ACT_CODE, "code": "FF" if fill.fill_number == 0 else "RF"}]},
    }
    if fill.quantity is not None:
        view["quantity"] = _quantity(fill.quantity)
    if fill.days_supply is not None:
        view["daysSupply"] = _days(fill.days_supply)
    if fill.when_prepared is not None:
        view["whenPrepared"] = _instant(fill.when_prepared)
    if fill.when_handed_over is not None:
        view["whenHandedOver"] = _instant(fill.when_handed_over)
    return stamped(view, fill.last_updated)


def _money(amount: Decimal, currency: str) -> dict[str, Any]:
    return {"value": _number(amount), "currency": currency}


def _totals(claim: ClaimSnapshot) -> list[dict[str, Any]]:
    amounts = (
        (ADJUDICATION, "submitted", claim.submitted_amount),
        (ADJUDICATION, "benefit", claim.total_paid),
        (ADJUDICATION, "copay", claim.copay),
        (C4BB_ADJUDICATION, "paidbypatient", claim.patient_pay),
    )
    return [
        {"category": {"coding": [{"system": system, "code": code}]}, "amount": _money(amount, claim.currency)}
        for system, code, amount in amounts
        if amount is not None
    ]


def claim_response_view(claim: ClaimSnapshot) -> dict[str, Any]:
    """The payer's answer as an R4 ClaimResponse-shaped summary (the claim itself travels as NCPDP D.0)."""
    insurer: dict[str, Any] = {"display": claim.payer_name or (f"BIN {claim.bin}" if claim.bin else "unknown payer")}
    view: dict[str, Any] = {
        "resourceType": "ClaimResponse",
        "id": claim.id,
        "status": "cancelled" if claim.status.lower() == "reversed" else "active",
        "type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/claim-type", "code": "pharmacy"}]},
        "use": "claim",
        "patient": {"reference": f"Patient/{claim.patient_id}"},
        "created": _instant(claim.created),
        "insurer": insurer,
        "outcome": CLAIM_OUTCOME.get(claim.status.lower(), "queued"),
        "disposition": claim.message or claim.status,
    }
    if claim.authorization_number:
        view["preAuthRef"] = claim.authorization_number
    if totals := _totals(claim):
        view["total"] = totals
    if claim.reject_codes:
        view["error"] = [{"code": {"coding": [{"system": NCPDP_REJECT_CODE, "code": c}]}} for c in claim.reject_codes]
    return stamped(view, claim.created)


def patient_view(snapshot: PatientSnapshot) -> dict[str, Any]:
    """A patient as an R4 Patient."""
    patient = snapshot.patient
    view: dict[str, Any] = {"resourceType": "Patient", "id": snapshot.id}
    if patient.identifiers:
        # as each sender gave it: not the system the hub scopes an identifier without an authority with
        view["identifier"] = [_identifier(i) for i in all_as_sent(patient.identifiers)]
    name: dict[str, Any] = {"family": patient.family_name} if patient.family_name else {}
    name |= {"given": [patient.given_name]} if patient.given_name else {}
    if name:
        view["name"] = [name]
    gender = {"M": "male", "F": "female", "O": "other", "U": "unknown"}.get(patient.sex or "")
    if gender:
        view["gender"] = gender
    if patient.birth_date:
        view["birthDate"] = patient.birth_date.isoformat()
    if patient.address:
        view["address"] = [{"text": patient.address}]
    if patient.phone:
        view["telecom"] = [{"system": "phone", "value": patient.phone}]
    return stamped(view, None)
