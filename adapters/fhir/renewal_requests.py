"""The FHIR equivalent of SCRIPT's RxRenewalRequest: a Task asking the prescriber to approve a renewal.

FHIR R4 has no renewal message. An EHR's FHIR workflow takes a request for action as a ``Task``:

* ``Task`` status ``requested``, intent ``proposal``, code ``approve`` (task-code), ``owner`` the prescriber
  (NPI), ``requester`` the pharmacy, ``for`` the patient (by the order's identifiers), ``basedOn`` the
  original order (by its placer identifier, which the EHR assigned), ``reasonCode`` why (no refills left)
* ``focus``: a contained ``MedicationRequest`` intent ``proposal`` (the renewal the pharmacy proposes: same
  drug, sig and quantity, the refills asked for), with ``priorPrescription`` the original order

Its ``identifier`` (``urn:rxhub:renewal-request`` | event id) makes a resend a conditional create the EHR
answers without a second Task. Approving is the EHR's: it then sends a new order (a MedicationRequest).
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from hub.domain.events import RenewalRequested
from hub.domain.order_parts import Frozen, Identifier, PrescriberInfo, QuantityInfo
from hub.domain.prescription import Prescription

#: system of the Task identifiers the hub assigns (value: the renewal.requested event id)
RENEWAL_SYSTEM = "urn:rxhub:renewal-request"
TASK_CODES = "http://hl7.org/fhir/CodeSystem/task-code"
V2_0203 = "http://terminology.hl7.org/CodeSystem/v2-0203"
NPI = "http://hl7.org/fhir/sid/us-npi"
NDC = "http://hl7.org/fhir/sid/ndc"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
NCPDP_PROVIDER = "http://terminology.hl7.org/NamingSystem/NCPDPProviderIdentificationNumber"


class RequestingPharmacy(Frozen):
    """The pharmacy as the Task's requester."""

    name: str
    npi: str | None = None
    ncpdp_id: str | None = None


def renewal_task(
    event: RenewalRequested, rx: Prescription, event_id: str, *, pharmacy: RequestingPharmacy, at: datetime
) -> dict[str, Any]:
    """The Task (with its contained MedicationRequest proposal) for one renewal.requested event."""
    placer = _reference(Identifier(value=event.placer_order_number, system=event.placer_system, type_code="PLAC"))
    patient = _patient(rx)
    task: dict[str, Any] = {
        "resourceType": "Task",
        "contained": [_proposal(event, rx, placer, patient, pharmacy)],
        "identifier": [{"system": RENEWAL_SYSTEM, "value": event_id}],
        "basedOn": [placer],
        "status": "requested",
        "intent": "proposal",
        "priority": "routine",
        "code": {
            "coding": [{"system": TASK_CODES, "code": "approve", "display": "Approve the focal resource"}],
            "text": "Renew prescription",
        },
        "description": f"Renewal requested for Rx {event.rx_number}: no refills remaining",
        "focus": {"reference": "#renewal"},
        "for": patient,
        "authoredOn": _instant(at),
        "requester": _pharmacy(pharmacy),
        "reasonCode": {"text": "No refills remaining"},
    }
    owner = _prescriber(rx.prescriber)
    if owner:
        task["owner"] = owner
    return task


def _proposal(
    event: RenewalRequested,
    rx: Prescription,
    placer: dict[str, Any],
    patient: dict[str, Any],
    pharmacy: RequestingPharmacy,
) -> dict[str, Any]:
    dispense: dict[str, Any] = {"numberOfRepeatsAllowed": max(rx.refills_authorized, 1)}
    quantity = event.quantity or rx.quantity
    if quantity is not None:
        dispense["quantity"] = _quantity(quantity)
    if rx.days_supply:
        dispense["expectedSupplyDuration"] = {
            "value": rx.days_supply,
            "unit": "days",
            "system": "http://unitsofmeasure.org",
            "code": "d",
        }
    proposal: dict[str, Any] = {
        "resourceType": "MedicationRequest",
        "id": "renewal",
        "status": "active",
        "intent": "proposal",
        "medicationCodeableConcept": _medication(event),
        "subject": patient,
        "requester": _pharmacy(pharmacy),
        "priorPrescription": placer,
        "dispenseRequest": dispense,
    }
    if rx.sig:
        proposal["dosageInstruction"] = [{"text": rx.sig}]
    return proposal


def _medication(event: RenewalRequested) -> dict[str, Any]:
    drug = event.drug
    codings = [{"system": NDC, "code": drug.ndc}] if drug.ndc else []
    codings += [{"system": RXNORM, "code": drug.rxnorm}] if drug.rxnorm else []
    concept: dict[str, Any] = {"coding": codings} if codings else {}
    return concept | ({"text": drug.text} if drug.text else {})


def _patient(rx: Prescription) -> dict[str, Any]:
    """The patient by the first identifier the order gave, named for a reader."""
    patient: dict[str, Any] = {"display": rx.patient_name} if rx.patient_name else {}
    if rx.patient_identifiers:
        patient["identifier"] = _identifier(rx.patient_identifiers[0])
    return patient


def _prescriber(prescriber: PrescriberInfo) -> dict[str, Any]:
    owner: dict[str, Any] = {"type": "Practitioner"}
    if prescriber.npi:
        owner["identifier"] = {"system": NPI, "value": prescriber.npi}
    name = " ".join(p for p in (prescriber.given_name, prescriber.family_name) if p)
    if name:
        owner["display"] = name
    return owner if len(owner) > 1 else {}


def _pharmacy(pharmacy: RequestingPharmacy) -> dict[str, Any]:
    requester: dict[str, Any] = {"type": "Organization", "display": pharmacy.name}
    if pharmacy.npi:
        requester["identifier"] = {"system": NPI, "value": pharmacy.npi}
    elif pharmacy.ncpdp_id:
        requester["identifier"] = {"system": NCPDP_PROVIDER, "value": pharmacy.ncpdp_id}
    return requester


def _reference(identifier: Identifier) -> dict[str, Any]:
    return {"type": "MedicationRequest", "identifier": _identifier(identifier)}


def _identifier(found: Identifier) -> dict[str, Any]:
    result: dict[str, Any] = {"value": found.value}
    if found.system:
        result["system"] = found.system
    if found.type_code:
        result["type"] = {"coding": [{"system": V2_0203, "code": found.type_code}]}
    return result


def _quantity(quantity: QuantityInfo) -> dict[str, Any]:
    value: int | float = (
        int(quantity.value) if quantity.value == quantity.value.to_integral() else float(Decimal(quantity.value))
    )
    return {"value": value} | ({"unit": quantity.unit} if quantity.unit else {})


def _instant(moment: datetime) -> str:
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).isoformat(timespec="seconds")
