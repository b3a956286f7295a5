"""Partial fills through the workers' handlers on the fake unit of work: the part billed again as a B3 with
343-HD P, and the completion of the rest started, refused or ignored."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from hub.domain.inventory import InventoryItem
from hub.domain.partial_commands import CompletePartialFill
from hub.domain.partial_fill import ShortStockChoice
from hub.domain.workflow_commands import DecideShortStock, DispensePrescription, RecordVerification
from hub.service.workflow.claim_steps import exchange_id
from tests.unit.domain.builders import LISINOPRIL, PHARMACIST, TECHNICIAN
from tests.unit.service.pharmacy import Pharmacy, paid_answer

LOT = InventoryItem(ndc=LISINOPRIL, lot="L1", expiry=date(2030, 1, 1), on_hand=Decimal("12"))


def _partial(pharmacy: Pharmacy) -> str:
    """A paid order of 30 with 12 on the shelf, verified, short, and a technician's partial fill chosen."""
    pharmacy.store.stock.save([LOT])
    pid = pharmacy.paid()
    approval = pharmacy.deliver(RecordVerification(prescription_id=pid, stage="data", approve=True), actor=PHARMACIST)
    pharmacy.follow(approval)
    choice = DecideShortStock(prescription_id=pid, fill_number=0, choice=ShortStockChoice.PARTIAL, reason="short")
    decided = pharmacy.deliver(choice, actor=TECHNICIAN)
    assert decided.event_names() == ["fill.partial", "claim.submitted"]
    assert decided.command_types() == ["SendClaim"], "nothing is picked before the part is paid"
    pharmacy.follow(decided)
    return pid


def _sold(pharmacy: Pharmacy, pid: str, attempt: int) -> None:
    """The payer pays the claim of ``attempt``, the pharmacist verifies, the part is picked, released and sold."""
    transaction = "B3" if attempt == 2 else "B1"
    xid = exchange_id(pid, 0, attempt, transaction)
    pharmacy.deliver(paid_answer(pid, xid, attempt=attempt, transaction=transaction))
    approval = pharmacy.deliver(RecordVerification(prescription_id=pid, stage="data", approve=True), actor=PHARMACIST)
    pharmacy.follow(approval)
    pharmacy.deliver(RecordVerification(prescription_id=pid, stage="product", approve=True), actor=PHARMACIST)
    pharmacy.deliver(DispensePrescription(prescription_id=pid), actor=TECHNICIAN)


def test_the_part_is_sent_as_a_b3_with_status_p_and_rebill_in_the_ledger() -> None:
    pharmacy = Pharmacy()
    pid = _partial(pharmacy)
    sent = pharmacy.store.claims.rows[exchange_id(pid, 0, 2, "B3")]
    assert (sent.transaction, sent.purpose) == ("B3", "rebill")
    request = pharmacy.codec.encoded[-1]
    assert (request.transaction.value, request.dispensing_status, request.quantity) == ("B3", "P", 12)
    assert (request.quantity_intended, request.days_supply_intended) == (30, 30)
    assert pharmacy.state(pid) == "claim_pending"


def test_the_rest_is_started_billed_c_and_named_after_its_part() -> None:
    pharmacy = Pharmacy()
    pid = _partial(pharmacy)
    _sold(pharmacy, pid, attempt=2)
    assert pharmacy.state(pid) == "dispensed"
    started = pharmacy.deliver(CompletePartialFill(prescription_id=pid, fill_number=0), actor=TECHNICIAN)
    assert started.event_names() == ["fill.completion_started", "claim.submitted"]
    assert [a["action"] for a in started.audits] == ["complete-partial-fill"]
    pharmacy.follow(started)
    request = pharmacy.codec.encoded[-1]
    assert (request.transaction.value, request.fill_number, request.attempt) == ("B1", 0, 3)
    assert (request.dispensing_status, request.quantity, request.quantity_intended) == ("C", 18, 30)
    assert request.associated_rx_number == request.rx_number and request.associated_date is not None
    again = pharmacy.deliver(CompletePartialFill(prescription_id=pid, fill_number=0), actor=TECHNICIAN)
    assert again.events == [] and again.audits == [], "a second request once the rest is under way changes nothing"


def test_a_completion_with_no_rest_owed_is_refused_and_audited() -> None:
    pharmacy = Pharmacy()
    pid = _partial(pharmacy)
    uow = pharmacy.deliver(CompletePartialFill(prescription_id=pid, fill_number=0), actor=TECHNICIAN)
    assert uow.events == [] and "not a picked-up partial fill" in (uow.refusal or "")
    (audit,) = uow.audits
    assert (audit["action"], audit["outcome"]) == ("complete-partial-fill", "refused")
