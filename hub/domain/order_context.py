"""What a hospital's MAR, a dispensing cabinet or an EHR needs to know about an order besides its numbers.

Kept on the prescription from the order (patient as named, ward, dose and frequency, prescriber) and read
from the stored record when an outbound feed builds a message: events never carry a patient's name.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from hub.domain.order_parts import (
    Allergy,
    DrugInfo,
    Frozen,
    Identifier,
    PatientInfo,
    PrescriberInfo,
    QuantityInfo,
)


class PatientLocation(Frozen):
    """Where an inpatient lies (HL7 PV1-3 PL: point of care, room, bed, facility)."""

    point_of_care: str | None = None
    room: str | None = None
    bed: str | None = None
    facility: str | None = None


class Dosage(Frozen):
    """One administration as ordered: amount and unit (RXE-3/5) and how often (TQ1-3 / RXE-1 repeat pattern)."""

    amount: Decimal | None = None
    unit: str | None = None
    #: the repeat pattern as the order coded it (table 0335: QD, BID, Q6H, PRN...)
    frequency: str | None = None


class Pharmacist(Frozen):
    """A pharmacist as a person for the receiver (HL7 XCN in RXD-10 / RXE-14), not our internal user id."""

    user_id: str
    family_name: str | None = None
    given_name: str | None = None
    licence: str | None = None
    npi: str | None = None


class PatientDemographics(Frozen):
    """The patient as the order named them: no address or phone, which no outbound message needs."""

    identifiers: tuple[Identifier, ...] = ()
    family_name: str | None = None
    given_name: str | None = None
    birth_date: date | None = None
    #: M, F, U or O
    sex: str | None = None
    allergies: tuple[Allergy, ...] = ()


class OrderContext(Frozen):
    """The order's clinical content for outbound feeds: patient, ward, prescriber, drug, dose, directions."""

    patient: PatientDemographics
    location: PatientLocation | None = None
    prescriber: PrescriberInfo | None = None
    drug: DrugInfo
    #: the dispensed product's NDC-11, name and unit (catalogue), once one is selected
    product_ndc: str | None = None
    product_name: str | None = None
    product_unit: str | None = None
    dosage: Dosage | None = None
    sig: str | None = None
    #: amount and unit to dispense as ordered
    quantity: QuantityInfo | None = None
    refills_remaining: int | None = None


def pharmacist_of(user_id: str, name: str, licence: str | None) -> Pharmacist:
    """A pharmacist from a signed-in actor: ``name`` is "Given Family" (the last word is the family name)."""
    given, _, family = name.strip().rpartition(" ")
    return Pharmacist(user_id=user_id, family_name=family or None, given_name=given or None, licence=licence)


def demographics_of(patient: PatientInfo) -> PatientDemographics:
    """The order's patient without address and phone."""
    return PatientDemographics(
        identifiers=patient.identifiers,
        family_name=patient.family_name,
        given_name=patient.given_name,
        birth_date=patient.birth_date,
        sex=patient.sex,
        allergies=patient.allergies,
    )
