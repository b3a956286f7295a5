"""What the FHIR views need from hub state: small frozen inputs the HTTP layer fills from repositories.

States are the hub's state strings (hub.domain RxState / ClaimStatus values, e.g. ``filling``,
``dispensed``, ``paid``) so this adapter does not import the workflow module; unknown states render as
FHIR ``unknown`` rather than failing a read.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from hub.domain.order_parts import DrugInfo, Frozen, PatientInfo, QuantityInfo, Setting


class PrescriptionSnapshot(Frozen):
    """A prescription as the hub holds it, for GET /fhir/MedicationRequest/{id}."""

    id: str
    placer_order_number: str
    placer_system: str | None = None
    state: str
    drug: DrugInfo
    quantity: QuantityInfo | None = None
    days_supply: int | None = None
    refills: int = 0
    #: refills not yet used; with a dispensed last fill, 0 means the prescription is completed
    refills_remaining: int | None = None
    sig: str | None = None
    substitution_allowed: bool = True
    patient_id: str
    prescriber_npi: str | None = None
    prescriber_name: str | None = None
    written_date: date | None = None
    setting: Setting = Setting.OUTPATIENT
    #: the patient's name, shown in the reference to them (an order just accepted)
    patient_display: str | None = None
    #: when the order or its current fill last changed
    last_updated: datetime | None = None


class FillSnapshot(Frozen):
    """One fill (dispense) of a prescription, for GET /fhir/MedicationDispense?prescription=..."""

    id: str
    prescription_id: str
    patient_id: str
    #: 0 = original fill, 1.. = refill number (D.0 403-D3)
    fill_number: int = 0
    state: str
    ndc: str | None = None
    drug_text: str | None = None
    quantity: QuantityInfo | None = None
    days_supply: int | None = None
    lot: str | None = None
    expiry: date | None = None
    when_prepared: datetime | None = None
    when_handed_over: datetime | None = None
    last_updated: datetime | None = None


class ClaimSnapshot(Frozen):
    """The payer's answer for a fill (from D.0), rendered as a ClaimResponse-shaped summary."""

    id: str
    fill_id: str
    patient_id: str
    #: hub ClaimStatus value: submitted | paid | rejected | reversal_required | reversed | cash
    status: str
    created: datetime
    payer_name: str | None = None
    bin: str | None = None
    currency: str = "USD"
    submitted_amount: Decimal | None = None
    #: D.0 509-F9 total amount paid
    total_paid: Decimal | None = None
    #: D.0 505-F5 patient pay amount
    patient_pay: Decimal | None = None
    #: D.0 518-FI amount of copay
    copay: Decimal | None = None
    #: D.0 511-FB reject codes, in the order the payer sent them
    reject_codes: tuple[str, ...] = ()
    #: D.0 503-F3 authorization number
    authorization_number: str | None = None
    message: str | None = None


class PatientSnapshot(Frozen):
    """A patient the hub knows, for GET /fhir/Patient/{id}."""

    id: str
    patient: PatientInfo
