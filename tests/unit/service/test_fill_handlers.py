"""The verification and fill workers' handlers against the fake unit of work: the pharmacist's gate, picking
from the shelf, short stock, deliveries, hand-over and return to stock."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from hub.domain.inventory import InventoryItem
from hub.domain.partial_fill import ShortStockChoice
from hub.domain.workflow_commands import (
    DecideShortStock,
    DispensePrescription,
    FillPrescription,
    ReceiveInventory,
    RecordVerification,
    ReturnToStock,
)
from hub.errors import IllegalTransition, NotAuthorized
from tests.unit.domain.builders import LISINOPRIL, PHARMACIST, TECHNICIAN
from tests.unit.service.fakes import FakeUnitOfWork
from tests.unit.service.pharmacy import Pharmacy

LOT = InventoryItem(ndc=LISINOPRIL, lot="L1", expiry=date(2030, 1, 1), on_hand=Decimal("100"))


def _verified(pharmacy: Pharmacy, stock: Decimal | None = Decimal("100")) -> tuple[str, FakeUnitOfWork]:
    """A paid order the pharmacist approved, with ``stock`` lisinopril on the shelf: (id, the approval)."""
    if stock is not None:
        pharmacy.store.stock.save([LOT.model_copy(update={"on_hand": stock})])
    pid = pharmacy.paid()
    uow = pharmacy.deliver(RecordVerification(prescription_id=pid, stage="data", approve=True), actor=PHARMACIST)
    return pid, uow


def _filled(pharmacy: Pharmacy) -> str:
    pid, approval = _verified(pharmacy)
    pharmacy.follow(approval)
    return pid


def _ready(pharmacy: Pharmacy) -> str:
    pid = _filled(pharmacy)
    pharmacy.deliver(RecordVerification(prescription_id=pid, stage="product", approve=True), actor=PHARMACIST)
    return pid


def test_the_pharmacists_approval_sends_the_fill_to_the_shelf() -> None:
    pharmacy = Pharmacy()
    pid, uow = _verified(pharmacy)
    assert pharmacy.state(pid) == "filling"
    assert uow.command_types() == ["FillPrescription"]
    assert [a["action"] for a in uow.audits] == ["data-verification-approve"]


def test_only_a_pharmacist_verifies() -> None:
    pharmacy = Pharmacy()
    pid = pharmacy.paid()
    with pytest.raises(NotAuthorized):
        pharmacy.deliver(RecordVerification(prescription_id=pid, stage="data", approve=True), actor=TECHNICIAN)


def test_an_unknown_verification_stage_is_an_illegal_transition() -> None:
    pharmacy = Pharmacy()
    pid = pharmacy.paid()
    with pytest.raises(IllegalTransition):
        pharmacy.deliver(RecordVerification(prescription_id=pid, stage="vibes", approve=True), actor=PHARMACIST)


def test_a_staff_users_role_is_read_once_per_transaction() -> None:
    pharmacy = Pharmacy()
    pid = pharmacy.paid()
    reads = pharmacy.store.actors.reads
    pharmacy.deliver(RecordVerification(prescription_id=pid, stage="data", approve=True), actor=PHARMACIST)
    assert pharmacy.store.actors.reads == reads + 1


def test_a_fill_reserves_its_stock_and_waits_for_the_product_check() -> None:
    pharmacy = Pharmacy()
    pid, approval = _verified(pharmacy)
    (fill,) = pharmacy.follow(approval)
    assert pharmacy.state(pid) == "product_verification"
    assert fill.event_names()[0] == "fill.completed"
    (lot,) = pharmacy.store.stock.lots(LISINOPRIL)
    assert lot.reserved == Decimal("30")


def test_a_fill_with_nothing_on_the_shelf_waits_in_the_fill_queue() -> None:
    pharmacy = Pharmacy()
    pid, approval = _verified(pharmacy, stock=None)
    (fill,) = pharmacy.follow(approval)
    assert pharmacy.state(pid) == "filling" and fill.events == []
    assert [(a["action"], a["outcome"]) for a in fill.audits] == [("fill", "out-of-stock")]


def test_a_short_shelf_is_never_partial_filled_silently() -> None:
    pharmacy = Pharmacy()
    pid, approval = _verified(pharmacy, stock=Decimal("10"))
    (fill,) = pharmacy.follow(approval)
    assert pharmacy.state(pid) == "filling"
    assert [a["action"] for a in fill.audits] == ["fill-short-stock"]
    decided = pharmacy.deliver(
        DecideShortStock(prescription_id=pid, fill_number=0, choice=ShortStockChoice.PARTIAL, reason="patient asked"),
        actor=PHARMACIST,
    )
    # the claim paid for the whole is billed again for the part (343-HD P) before anything is picked
    assert decided.command_types() == ["SendClaim"] and pharmacy.state(pid) == "claim_pending"


def test_a_fill_request_for_a_fill_no_longer_waiting_is_ignored() -> None:
    pharmacy = Pharmacy()
    pid = _filled(pharmacy)
    uow = pharmacy.deliver(FillPrescription(prescription_id=pid, fill_number=0))
    assert uow.events == [] and uow.audits == []


def test_a_delivery_retries_the_fills_waiting_for_its_ndc() -> None:
    pharmacy = Pharmacy()
    pid, approval = _verified(pharmacy, stock=None)
    pharmacy.follow(approval)
    delivery = ReceiveInventory(ndc=LISINOPRIL, lot="L2", expiry=date(2030, 1, 1), quantity=Decimal("100"))
    uow = pharmacy.deliver(delivery, actor=TECHNICIAN)
    assert [c.payload["prescription_id"] for c in uow.commands] == [pid]
    assert [lot.lot for lot in pharmacy.store.stock.lots(LISINOPRIL)] == ["L2"]
    pharmacy.follow(uow)
    assert pharmacy.state(pid) == "product_verification"


def test_an_expired_delivery_is_refused() -> None:
    pharmacy = Pharmacy()
    delivery = ReceiveInventory(ndc=LISINOPRIL, lot="OLD", expiry=date(2020, 1, 1), quantity=Decimal("5"))
    uow = pharmacy.deliver(delivery, actor=TECHNICIAN)
    assert uow.refusal is not None and pharmacy.store.stock.items == {}
    assert uow.audits[0]["outcome"] == "refused"


def test_a_ready_fill_is_handed_over_and_its_stock_consumed() -> None:
    pharmacy = Pharmacy()
    pid = _ready(pharmacy)
    uow = pharmacy.deliver(DispensePrescription(prescription_id=pid), actor=TECHNICIAN)
    assert pharmacy.state(pid) == "dispensed" and "prescription.dispensed" in uow.event_names()
    (lot,) = pharmacy.store.stock.lots(LISINOPRIL)
    assert (lot.on_hand, lot.reserved) == (Decimal("70"), Decimal("0"))


def test_a_ready_fill_goes_back_to_stock_and_its_claim_is_reversed() -> None:
    pharmacy = Pharmacy()
    pid = _ready(pharmacy)
    uow = pharmacy.deliver(ReturnToStock(prescription_id=pid, fill_number=0), actor=TECHNICIAN)
    assert pharmacy.state(pid) == "returned_to_stock"
    assert "claim.reversal_required" in uow.event_names() and uow.command_types() == ["SendClaim"]
    (lot,) = pharmacy.store.stock.lots(LISINOPRIL)
    assert lot.reserved == Decimal("0")


def test_a_sweeps_return_of_a_fill_no_longer_in_will_call_is_ignored() -> None:
    pharmacy = Pharmacy()
    pid = _filled(pharmacy)
    uow = pharmacy.deliver(ReturnToStock(prescription_id=pid, fill_number=0))
    assert uow.events == [] and pharmacy.state(pid) == "product_verification"
