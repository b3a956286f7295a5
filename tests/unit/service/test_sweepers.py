"""What the sweepers queue for each overdue claim or will-call fill, on the fake unit of work: once, under an id
derived from what is overdue, so repeated sweeps or several processes never act twice."""

from __future__ import annotations

import uuid
from datetime import timedelta

from hub.domain.eligibility import ELIGIBILITY
from hub.domain.payer_sheet import PayerSheets
from hub.domain.states import RxState
from hub.domain.workflow_commands import CheckClaimTimeout
from hub.persistence.prescriptions import new_row
from hub.service.workflow.claim_sweeper import queue_timeout_check
from hub.service.workflow.return_sweeper import REASON, fills_past_window, queue_return
from tests.unit.domain.builders import NOW, at_state
from tests.unit.service.fakes import FakeStore, FakeUnitOfWork
from tests.unit.service.pharmacy import Pharmacy


def test_an_overdue_claim_gets_one_timeout_check_however_often_it_is_swept() -> None:
    pharmacy = Pharmacy()
    pid, xid = pharmacy.billed()
    check = CheckClaimTimeout(exchange_id=xid, prescription_id=pid, fill_number=0, attempt=1)
    message_id = uuid.uuid4()
    first, second = FakeUnitOfWork(pharmacy.store), FakeUnitOfWork(pharmacy.store)
    assert queue_timeout_check(first, check, message_id) is True
    assert queue_timeout_check(second, check, message_id) is False
    (queued,) = first.commands
    assert queued.type == "CheckClaimTimeout" and queued.message_id == message_id
    assert str(queued.correlation_id) == str(pharmacy.correlation) and second.commands == []


def test_an_overdue_eligibility_check_is_closed_as_timed_out_with_nothing_queued() -> None:
    store = FakeStore()
    xid = f"{uuid.uuid4()}:{ELIGIBILITY}"
    store.claims.sent(
        exchange_id=xid, prescription_id="chk", fill_number=0, attempt=1, transaction="E1", purpose="e", resends=0
    )
    uow = FakeUnitOfWork(store)
    check = CheckClaimTimeout(exchange_id=xid, prescription_id="chk", fill_number=0, attempt=1)
    assert queue_timeout_check(uow, check, uuid.uuid4()) is False
    assert uow.commands == [] and store.claims.rows[xid].status == "timeout"


def test_a_fill_left_in_will_call_past_its_window_is_returned_once() -> None:
    rx = at_state(RxState.READY)
    row = new_row(rx, str(uuid.uuid4()), "hl7")
    assert fills_past_window([row], NOW + timedelta(days=2), PayerSheets(), 14.0) == []
    (overdue,) = fills_past_window([row], NOW + timedelta(days=15), PayerSheets(), 14.0)
    store = FakeStore()
    first, second = FakeUnitOfWork(store), FakeUnitOfWork(store)
    assert queue_return(first, *overdue) is True
    assert queue_return(second, *overdue) is False
    (queued,) = first.commands
    assert queued.type == "ReturnToStock"
    assert queued.payload == {"prescription_id": rx.prescription_id, "reason": REASON, "fill_number": 0}
