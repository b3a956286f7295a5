"""A fill returned to stock past its plan's window, rebilled for a patient who came after all, end to end with the
payer simulator: refused while the fill is in will-call or its B2 unanswered; then a fresh B1, paid, and the fill
goes through the pharmacist and the shelf again to will-call, where it is sold.

The window is ten seconds of real time: the first must pass (the fill worker's sweep returns the fill), the
second must not before the sale, the only span the test cannot wait on an event for; ten seconds is many times
what the steps from will-call to the sale take.
"""

from __future__ import annotations

import threading
from decimal import Decimal

from sqlalchemy import select

from adapters.ncpdp.d0.claim_request import read_claim_request
from adapters.ncpdp.d0.parser import parse_request
from adapters.ncpdp.payer.config import PayerConfig, load_payer_config
from adapters.ncpdp.payer_link.simulator import PayerSimulator, SimAnswer
from hub.persistence.tables import audit_log
from tests.conftest import make_settings
from tests.e2e.test_claims import _ledger
from tests.e2e.test_return_window import _claim_reversed, _to_will_call
from tests.support.pharmacy import pharmacy
from tests.support.waiting import eventually

WINDOW_DAYS = 10 / 86400


class HoldsTheReversal(PayerSimulator):
    """Answers the first B2 only once the test lets it (the payer is slow), everything else at once."""

    def __init__(self, config: PayerConfig) -> None:
        super().__init__(config)
        self.reversal_arrived = threading.Event()
        self.answer_reversal = threading.Event()

    def answer(self, body: bytes) -> SimAnswer:
        if read_claim_request(parse_request(body)).transaction_code == "B2" and not self.reversal_arrived.is_set():
            self.reversal_arrived.set()
            assert self.answer_reversal.wait(60), "the test never let the reversal be answered"
        return super().answer(body)


def test_a_fill_returned_past_its_window_is_rebilled_and_sold(amqp_url: str, sqlite_url: str) -> None:
    """Fails on the code before this change: there is no rebill route (404), and a returned fill never leaves
    returned_to_stock."""
    settings = make_settings(
        amqp_url,
        sqlite_url,
        default_bin="999001",
        payer_timeout_ms=30000,
        return_to_stock_days=WINDOW_DAYS,
        return_to_stock_sweep_s=0.2,
    )
    payer = HoldsTheReversal(load_payer_config(settings.payer_sim_config))
    with pharmacy(settings, simulator=payer) as ph:
        tech, rph = ph.client("technician"), ph.client("pharmacist")
        pid = _to_will_call(ph)
        url = f"/api/prescriptions/{pid}/rebill"
        ph.wait_state(pid, "ready")
        in_will_call = tech.post(url)
        returned = ph.wait_state(pid, "returned_to_stock", timeout_s=60)
        assert payer.reversal_arrived.wait(30), "the return's B2 never reached the payer"
        unanswered = tech.post(url)
        payer.answer_reversal.set()
        eventually(lambda: _claim_reversed(ph, pid), "the B2 approved and the claim marked reversed")
        accepted = tech.post(url, headers={"Idempotency-Key": "rebill-1"})
        paid = ph.wait_state(pid, "data_verification")
        retried = tech.post(url, headers={"Idempotency-Key": "rebill-1"})
        assert rph.post(f"/api/prescriptions/{pid}/data-verification", json={"approve": True}).status_code == 202
        ph.wait_state(pid, "product_verification")
        assert rph.post(f"/api/prescriptions/{pid}/product-verification", json={"approve": True}).status_code == 202
        ph.wait_state(pid, "ready")
        sold = tech.post(f"/api/prescriptions/{pid}/dispense")
        done = ph.wait_state(pid, "dispensed")
        stock = tech.get("/api/inventory").json()
        with ph.engine.connect() as conn:
            audits = conn.execute(
                select(audit_log.c.action, audit_log.c.actor, audit_log.c.role, audit_log.c.outcome)
                .where(audit_log.c.prescription_id == pid, audit_log.c.action.contains("ebill"))
                .order_by(audit_log.c.id)
            ).all()
    assert in_will_call.status_code == 409 and "return-to-stock window" in in_will_call.text
    assert returned.document["fills"][0]["claim"]["status"] == "reversal_required"
    assert unanswered.status_code == 409 and "not approved the reversal (B2)" in unanswered.text
    assert accepted.status_code == 202
    assert retried.status_code == 202 and retried.json()["command_id"] == accepted.json()["command_id"]
    claim = paid.document["fills"][0]["claim"]
    assert (claim["status"], claim["attempt"], claim["bin"]) == ("paid", 2, "999001")
    assert _ledger(ph, pid) == [(1, "B1", "P"), (1, "B2", "A"), (2, "B1", "P")], "a fresh B1 after the B2"
    assert sold.status_code == 202
    fill = done.document["fills"][0]
    assert [step["action"] for step in fill["history"]][-7:] == [
        "return_to_stock",
        "rebill_returned",
        "claim_paid",
        "approve_data",
        "complete_fill",
        "approve_product",
        "dispense",
    ]
    quantity = Decimal(fill["quantity_dispensed"])
    assert [(Decimal(s["on_hand"]), Decimal(s["reserved"])) for s in stock] == [(Decimal(100) - quantity, Decimal(0))]
    refused = [(a, actor, o) for a, actor, _, o in audits if o == "refused"]
    assert len(refused) == 2 and {actor for _, actor, _ in refused} == {"tina.tech"}
    assert ("request RebillReturnedFill", "tina.tech", "technician", "ok") in audits
    [(_, worker_actor, role, _)] = [a for a in audits if a[0] == "rebill-returned-fill"]
    assert role == "technician" and worker_actor != "system", "the worker audits the technician who asked"
