"""Synthetic prescriptions driven to any state through the aggregate's own steps (no shortcuts)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from hub.config import DATA_DIR
from hub.domain.actors import Actor, Role, system_actor
from hub.domain.catalogue import Catalogue
from hub.domain.commands import ReceivePrescription
from hub.domain.dur import InteractionTable, ProfileEntry
from hub.domain.intake import IntakeContext
from hub.domain.inventory import InventoryItem, allocate
from hub.domain.label import PharmacyInfo
from hub.domain.order_parts import (
    CoverageInfo,
    DrugInfo,
    Identifier,
    PatientInfo,
    PrescriberInfo,
    QuantityInfo,
    Setting,
    Source,
)
from hub.domain.parties import Patient, Prescriber
from hub.domain.prescription import Prescription
from hub.domain.states import RxState

DATA = DATA_DIR
CATALOGUE = Catalogue.from_json_text((DATA / "drug-catalogue.json").read_text())
INTERACTIONS = InteractionTable.from_json_text((DATA / "interactions.json").read_text())

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
TODAY = NOW.date()
PHARMACIST = Actor(user_id="rph-1", role=Role.PHARMACIST, name="Robin Pharmacist", licence="RPH-0001")
TECHNICIAN = Actor(user_id="tech-1", role=Role.TECHNICIAN, name="Terry Tech")
ADMIN = Actor(user_id="admin-1", role=Role.ADMIN, name="Alex Admin")
SYSTEM = system_actor("tests")
PHARMACY = PharmacyInfo(name="Test Pharmacy", address="1 Test Street, Springfield", phone="555-0100")

LISINOPRIL = "00378020801"
HYDROCODONE = "00591040501"
COVERAGE = CoverageInfo(bin="610014", pcn="TESTPCN", group_id="GRP1", cardholder_id="CH123")
PATIENT = Patient.new(
    "pat-1",
    PatientInfo(
        identifiers=(Identifier(value="MRN-1", system="urn:test:mrn"),),
        family_name="Testpatient",
        given_name="Sam",
        birth_date=date(1970, 1, 1),
    ),
)
# NPI 1234567893 and DEA AP5836727 are the valid test values of standards §6; the DEA's second letter is P
PRESCRIBER = Prescriber.new(
    "doc-1", PrescriberInfo(family_name="Prescott", given_name="Jo", npi="1234567893", dea="AP5836727")
)


def order(**overrides: Any) -> ReceivePrescription:
    """A synthetic lisinopril order with coverage; override any field."""
    fields: dict[str, Any] = {
        "placer_order_number": "ORD-1",
        "placer_system": "EHR",
        "patient": PATIENT.info,
        "prescriber": PRESCRIBER.info,
        "drug": DrugInfo(ndc=LISINOPRIL, text="Lisinopril 10 mg tablet"),
        "quantity": QuantityInfo(value=Decimal("30"), unit="EA"),
        "days_supply": 30,
        "refills": 2,
        "sig": "Take 1 tablet by mouth once daily",
        "written_date": TODAY - timedelta(days=1),
        "coverage": COVERAGE,
    }
    fields.update(overrides)
    return ReceivePrescription(**fields)


def received(
    *, source: Source = Source.HL7, patient: Patient = PATIENT, actor: Actor = SYSTEM, **overrides: Any
) -> Prescription:
    """A prescription just received (fill 0 in RECEIVED)."""
    rx, _ = Prescription.receive(
        prescription_id="rx-id-1",
        rx_number="7000001",
        command=order(**overrides),
        source=source,
        patient=patient,
        prescriber=PRESCRIBER,
        actor=actor,
        now=NOW,
    )
    return rx


def context(profile: tuple[ProfileEntry, ...] = (), coverage: CoverageInfo | None = None) -> IntakeContext:
    """Intake context over the shipped catalogue and interaction table."""
    return IntakeContext(catalogue=CATALOGUE, interactions=INTERACTIONS, profile=profile, coverage=coverage)


def stock(ndc: str = LISINOPRIL, quantity: str = "500") -> list[InventoryItem]:
    """One in-date lot of ``ndc``."""
    return [InventoryItem(ndc=ndc, lot="LOT-A", expiry=date(2027, 6, 30), on_hand=Decimal(quantity))]


def fill_from_stock(rx: Prescription, now: datetime = NOW) -> None:
    """Allocate from a fresh lot and complete the fill."""
    product = rx.product
    assert product is not None
    quantity = rx.current_fill.quantity or Decimal("1")
    allocation = allocate(stock(product.ndc11), product.ndc11, quantity, now.date())
    rx.complete_fill(TECHNICIAN, now, allocation, PHARMACY)


def at_state(state: RxState, setting: Setting = Setting.OUTPATIENT) -> Prescription:
    """A prescription whose current fill is in ``state``, reached through the normal steps."""
    if state is RxState.NEEDS_PRODUCT:
        rx = received(setting=setting, drug=DrugInfo(rxnorm="314077", text="lisinopril 10 MG Oral Tablet"))
        rx.intake(SYSTEM, NOW, context())
        return rx
    if state is RxState.CANCELLED:
        rx = received(setting=setting)
        rx.cancel(SYSTEM, NOW, "prescriber cancelled")
        return rx
    rx = received(setting=setting)
    for step in _STEPS[setting]:
        if rx.state is state:
            return rx
        step(rx)
    assert rx.state is state, f"cannot reach {state} in {setting}"
    return rx


def _to_rejected(rx: Prescription) -> None:
    rx.claim_rejected(SYSTEM, NOW, reject_codes=["75"], payer_message="PA required")


def _resubmit_and_pay(rx: Prescription) -> None:
    rx.resubmit_claim(TECHNICIAN, NOW, prior_auth_number="PA-1")
    rx.claim_paid(SYSTEM, NOW, total_paid=Decimal("12.00"), patient_pay=Decimal("5.00"), authorization_number="AUTH1")


_STEPS: dict[Setting, list[Any]] = {
    Setting.OUTPATIENT: [
        lambda rx: rx.intake(SYSTEM, NOW, context()),
        _to_rejected,
        _resubmit_and_pay,
        lambda rx: rx.approve_data_verification(PHARMACIST, NOW),
        fill_from_stock,
        lambda rx: rx.approve_product_verification(PHARMACIST, NOW),
        lambda rx: rx.dispense(TECHNICIAN, NOW),
    ],
    Setting.INPATIENT: [
        lambda rx: rx.intake(SYSTEM, NOW, context()),
        lambda rx: rx.approve_data_verification(PHARMACIST, NOW),
        fill_from_stock,
        lambda rx: rx.approve_product_verification(PHARMACIST, NOW),
        lambda rx: rx.dispense(TECHNICIAN, NOW),
    ],
}


def at_terminal(state: RxState, setting: Setting = Setting.OUTPATIENT) -> Prescription:
    """A prescription ending in REJECTED or RETURNED_TO_STOCK (branches off the main path)."""
    if state is RxState.REJECTED:
        rx = at_state(RxState.DATA_VERIFICATION, setting)
        rx.reject_data_verification(PHARMACIST, NOW, "dose too high")
        return rx
    rx = at_state(RxState.READY, setting)
    rx.return_to_stock(TECHNICIAN, NOW + timedelta(days=14))
    return rx


def reach(state: RxState, setting: Setting = Setting.OUTPATIENT) -> Prescription:
    """Any state, main path or branch."""
    if state in (RxState.REJECTED, RxState.RETURNED_TO_STOCK):
        return at_terminal(state, setting)
    return at_state(state, setting)
