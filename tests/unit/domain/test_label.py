"""Label content: every required item, discard date, controlled-substance warnings."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from hub.domain.inventory import InventoryItem, allocate
from hub.domain.label import FEDERAL_TRANSFER_CAUTION, LabelFacts, build_label, discard_date
from hub.domain.lots import Pick
from hub.domain.order_parts import DrugInfo
from hub.domain.states import RxState
from tests.unit.domain.builders import (
    CATALOGUE,
    HYDROCODONE,
    LISINOPRIL,
    NOW,
    PHARMACIST,
    PHARMACY,
    SYSTEM,
    TECHNICIAN,
    context,
    reach,
    received,
)


def test_label_carries_every_required_item() -> None:
    rx = reach(RxState.PRODUCT_VERIFICATION)
    label = rx.current_fill.label
    assert label is not None
    assert label.patient_name == "Sam Testpatient"
    assert (label.drug_name, label.strength, label.form) == ("Lisinopril", "10 mg", "tablet")
    assert label.ndc == "00378-0208-01" and label.manufacturer == "Mylan"
    assert (label.quantity, label.unit) == (Decimal("30"), "EA")
    assert label.directions == "Take 1 tablet by mouth once daily"
    assert label.prescriber_name == "Jo Prescott"
    assert (label.rx_number, label.fill_number, label.fill_date) == ("7000001", 0, NOW.date())
    assert label.refills_remaining == 2 and label.refills_text == "2 refill(s) remaining"
    assert (label.pharmacy_name, label.pharmacy_address, label.pharmacy_phone) == (
        PHARMACY.name,
        PHARMACY.address,
        PHARMACY.phone,
    )
    assert label.discard_date == date(2027, 3, 2)  # a year after filling, before the lot's 2027-06-30 expiry
    assert label.lots == ("LOT-A",)
    assert label.auxiliary_warnings == () and label.initial_fill_date is None


def test_discard_date_is_the_earlier_of_lot_expiry_and_one_year() -> None:
    fill_day = date(2026, 3, 2)
    early = Pick(lot="A", expiry=date(2026, 9, 30), quantity=Decimal("10"))
    late = Pick(lot="B", expiry=date(2028, 1, 31), quantity=Decimal("10"))
    assert discard_date(fill_day, [late, early]) == date(2026, 9, 30)
    assert discard_date(fill_day, [late]) == date(2027, 3, 2)


def test_schedule_ii_label_has_transfer_caution_and_initial_fill_date() -> None:
    rx = received(drug=DrugInfo(ndc=HYDROCODONE, schedule="2"), refills=0)
    rx.intake(SYSTEM, NOW, context())
    rx.claim_paid(SYSTEM, NOW, total_paid=Decimal("10"), patient_pay=Decimal("2"))
    rx.approve_data_verification(PHARMACIST, NOW)
    shelf = [InventoryItem(ndc=HYDROCODONE, lot="CII-1", expiry=date(2026, 8, 31), on_hand=Decimal("100"))]
    rx.complete_fill(TECHNICIAN, NOW, allocate(shelf, HYDROCODONE, Decimal("30"), NOW.date()), PHARMACY)
    label = rx.current_fill.label
    assert label is not None
    assert FEDERAL_TRANSFER_CAUTION in label.auxiliary_warnings
    assert any("drowsiness" in w for w in label.auxiliary_warnings)
    assert label.initial_fill_date == NOW.date()
    assert label.refills_text == "No refills"
    assert label.discard_date == date(2026, 8, 31)


def test_controlled_refill_label_keeps_the_initial_fill_date() -> None:
    product = CATALOGUE.by_ndc("00228202910")  # alprazolam, CIV
    assert product is not None and product.schedule == "4"
    facts = LabelFacts(
        patient_name="P",
        prescriber_name="D",
        rx_number="1",
        fill_number=2,
        directions="d",
        refills_remaining=1,
        initial_fill_date=date(2026, 1, 5),
    )
    picks = [Pick(lot="X", expiry=date(2027, 1, 1), quantity=Decimal("30"))]
    label = build_label(facts, product, picks, date(2026, 3, 2), PHARMACY)
    assert label.initial_fill_date == date(2026, 1, 5)
    assert FEDERAL_TRANSFER_CAUTION in label.auxiliary_warnings


def test_schedule_v_and_uncontrolled_products_have_no_transfer_caution() -> None:
    facts = LabelFacts(
        patient_name="P",
        prescriber_name="D",
        rx_number="1",
        fill_number=0,
        directions="d",
        refills_remaining=0,
    )
    picks = [Pick(lot="X", expiry=date(2027, 1, 1), quantity=Decimal("1"))]
    for ndc in (LISINOPRIL, "62756001740"):  # testosterone is CIII: caution; lisinopril: none
        product = CATALOGUE.by_ndc(ndc)
        assert product is not None
        label = build_label(facts, product, picks, date(2026, 3, 2), PHARMACY)
        assert (FEDERAL_TRANSFER_CAUTION in label.auxiliary_warnings) is (product.schedule == "3")
    schedule_v = CATALOGUE.by_ndc(LISINOPRIL).model_copy(update={"schedule": "5"})  # type: ignore[union-attr]
    label = build_label(facts, schedule_v, picks, date(2026, 3, 2) + timedelta(days=1), PHARMACY)
    assert FEDERAL_TRANSFER_CAUTION not in label.auxiliary_warnings
    assert label.initial_fill_date == date(2026, 3, 3)
