"""RXD-10 of a completion names the pharmacist who released the rest, not the one who released the partial fill:
the two share their fill number (issue 33, part 5)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from adapters.hl7.outbound.event_mapping import _pharmacist
from hub.domain.actors import Actor, Role
from hub.domain.inventory import InventoryItem, allocate
from hub.domain.partial_fill import ShortStockChoice
from hub.domain.prescription import Prescription
from hub.domain.states import RxState
from tests.unit.domain.builders import LISINOPRIL, NOW, PHARMACIST, PHARMACY, SYSTEM, TECHNICIAN, reach

OTHER = Actor(user_id="rph-2", role=Role.PHARMACIST, name="Sam Second", licence="RPH-0002")


def _shelf(quantity: str) -> list[InventoryItem]:
    return [InventoryItem(ndc=LISINOPRIL, lot="L", expiry=date(2030, 1, 1), on_hand=Decimal(quantity))]


def _sell(rx: Prescription, releasing: Actor) -> None:
    rx.claim_paid(SYSTEM, NOW, total_paid=Decimal("4"), patient_pay=Decimal("1"))
    rx.approve_data_verification(PHARMACIST, NOW)
    quantity = rx.current_fill.quantity
    assert quantity is not None
    rx.complete_fill(TECHNICIAN, NOW, allocate(_shelf(str(quantity)), LISINOPRIL, quantity, NOW.date()), PHARMACY)
    rx.approve_product_verification(releasing, NOW)
    rx.dispense(TECHNICIAN, NOW)


def test_each_dispense_of_a_fill_number_names_its_own_releasing_pharmacist() -> None:
    rx = reach(RxState.FILLING)
    rx.note_short_stock(NOW, allocate(_shelf("12"), LISINOPRIL, Decimal("30"), NOW.date()))
    rx.decide_short_stock(TECHNICIAN, NOW, ShortStockChoice.PARTIAL, "back-order")
    _sell(rx, PHARMACIST)
    rx.start_completion(TECHNICIAN, NOW + timedelta(days=1))
    _sell(rx, OTHER)
    part = _pharmacist(rx, 0, product=True, by=PHARMACIST.user_id)
    rest = _pharmacist(rx, 0, product=True, by=OTHER.user_id)
    assert part is not None and part.licence == "RPH-0001"
    assert rest is not None and rest.licence == "RPH-0002"
