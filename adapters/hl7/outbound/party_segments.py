"""The people an order names, as HL7 writes them: the patient (PID, PV1, AL1) and clinicians (XCN).

Required fields the record does not know are sent as the HL7 null ``""`` (v2.5.1 Ch. 2.5.3: "delete the
value"), never left out, so a strict receiver finds the field and knows the pharmacy has no value for it.
"""

from __future__ import annotations

from adapters.hl7.outbound.er7_writer import components, day, leaf, repeated, segment
from adapters.hl7.outbound.message_inputs import OrderRef
from hub.domain.order_context import Pharmacist
from hub.domain.order_parts import Allergy, PrescriberInfo, Setting

#: the HL7 null: the field is present and the sender has no value for it
NULL = '""'
#: free-text severities to table 0128 (SV severe, MO moderate, MI mild, U unknown)
_SEVERITY = {"severe": "SV", "sv": "SV", "moderate": "MO", "mo": "MO", "mild": "MI", "mi": "MI"}


def pid(order: OrderRef) -> str | None:
    """PID-3 identifiers, PID-5 name, PID-7 birth date, PID-8 sex; None when nothing identifies the patient."""
    context = order.context
    patient = context.patient if context else None
    if not order.patient_identifiers and patient is None:
        return None
    # CX-5 is required from v2.7: an identifier whose type the order did not say (a FHIR Identifier without
    # type) is table 0203 U, unspecified identifier
    ids = [components(i.value, None, None, i.system, i.type_code or "U") for i in order.patient_identifiers]
    name = components(patient.family_name, patient.given_name) if patient else ""
    fields = {
        1: "1",
        3: repeated(*ids) or NULL,
        5: name or NULL,
        7: day(patient.birth_date) if patient and patient.birth_date else "",
        8: leaf(patient.sex) if patient else "",
    }
    return segment("PID", fields)


def pv1(order: OrderRef) -> str | None:
    """PV1-2 patient class I and PV1-3 ward^room^bed^facility, for inpatient orders only."""
    if order.setting is not Setting.INPATIENT:
        return None
    where = order.context.location if order.context else None
    location = components(where.point_of_care, where.room, where.bed, where.facility) if where else ""
    return segment("PV1", {1: "1", 2: "I", 3: location})


def al1(order: OrderRef) -> list[str]:
    """One AL1 per allergy on the patient's record: drug allergy, allergen, severity (table 0128)."""
    context = order.context
    if context is None:
        return []
    return [_al1(n, allergy) for n, allergy in enumerate(context.patient.allergies, start=1)]


def _al1(number: int, allergy: Allergy) -> str:
    allergen = (
        components(allergy.code, allergy.text, allergy.system) if allergy.code else components(None, allergy.text)
    )
    severity = _SEVERITY.get((allergy.severity or "").strip().lower(), "")
    return segment("AL1", {1: str(number), 2: "DA", 3: allergen, 4: severity})


def prescriber_xcn(prescriber: PrescriberInfo | None) -> str:
    """ORC-12 ordering provider: ``NPI^family^given^^^^^^NPI^^^^NPI`` (no NPI: the name alone)."""
    if prescriber is None or not (prescriber.npi or prescriber.family_name):
        return ""
    if not prescriber.npi:
        return components(None, prescriber.family_name, prescriber.given_name)
    return components(
        prescriber.npi,
        prescriber.family_name,
        prescriber.given_name,
        None,
        None,
        None,
        None,
        None,
        "NPI",
        None,
        None,
        None,
        "NPI",
    )


def pharmacist_xcn(pharmacist: Pharmacist | None, version: str) -> str:
    """RXD-10 / RXE-14 as a person: ``id^family^given`` with NPI or licence (XCN-13 table 0203 NPI / LN; v2.3
    has a CN there, without an identifier type)."""
    if pharmacist is None:
        return ""
    number, kind = (pharmacist.npi, "NPI") if pharmacist.npi else (pharmacist.licence, "LN")
    if not number or version == "2.3":
        return components(number, pharmacist.family_name, pharmacist.given_name)
    return components(
        number,
        pharmacist.family_name,
        pharmacist.given_name,
        None,
        None,
        None,
        None,
        None,
        None,
        None,
        None,
        None,
        kind,
    )
