"""The plan's return-to-stock window through the running hub: a paid will-call fill past it cannot be sold, and the
fill worker's sweeper returns it to stock with an approved B2 (issue 33, part 6)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from hub.domain.payer_sheet import PayerSheets
from hub.service.workflow.return_sweeper import ReturnSweeper
from tests.e2e.test_claims import _ledger, _order, _settings
from tests.support.pharmacy import Pharmacy, pharmacy
from tests.support.waiting import eventually

#: 86 microseconds: every fill reaching will-call is past it at once, without waiting
TINY_WINDOW_DAYS = 1e-9


def _to_will_call(ph: Pharmacy) -> str:
    tech, rph = ph.client("technician"), ph.client("pharmacist")
    tech.post("/api/inventory", json={"ndc": "00093005801", "lot": "L1", "expiry": "2030-01-01", "quantity": "100"})
    pid = _order(ph)
    ph.wait_state(pid, "data_verification")
    assert rph.post(f"/api/prescriptions/{pid}/data-verification", json={"approve": True}).status_code == 202
    ph.wait_state(pid, "product_verification")
    assert rph.post(f"/api/prescriptions/{pid}/product-verification", json={"approve": True}).status_code == 202
    return pid


def _reversed(ph: Pharmacy, pid: str) -> bool | None:
    return True if _ledger(ph, pid)[-1][1:] == ("B2", "A") else None


def _claim_reversed(ph: Pharmacy, pid: str) -> bool | None:
    claim = ph.wait_state(pid, "returned_to_stock").document["fills"][0]["claim"]
    return True if claim["status"] == "reversed" else None


def test_pickup_past_the_window_is_refused_and_the_sweep_returns_the_fill(amqp_url: str, sqlite_url: str) -> None:
    # the background sweep waits an hour: this test sweeps itself, twice, as two worker processes would
    settings = _settings(amqp_url, sqlite_url, return_to_stock_days=TINY_WINDOW_DAYS, return_to_stock_sweep_s=3600)
    with pharmacy(settings) as ph:
        tech = ph.client("technician")
        pid = _to_will_call(ph)
        ph.wait_state(pid, "ready")
        refused = tech.post(f"/api/prescriptions/{pid}/dispense")
        assert refused.status_code == 409
        assert "return-to-stock window" in refused.text
        sweeper = ReturnSweeper(ph.engine, sheets=PayerSheets(), default_days=TINY_WINDOW_DAYS, interval_s=3600)
        assert sweeper.sweep_once() == 1
        assert sweeper.sweep_once() == 0  # queued once, however often swept
        final = ph.wait_state(pid, "returned_to_stock")
        eventually(lambda: _reversed(ph, pid), "the B2 reversal approved")
        stock = tech.get("/api/inventory").json()
        assert sweeper.sweep_once() == 0
    fill = final.document["fills"][0]
    assert fill["history"][-1]["note"] == "not picked up within the plan's return-to-stock window"
    assert [t for _, t, _ in _ledger(ph, pid)] == ["B1", "B2"]
    assert [(Decimal(s["on_hand"]), Decimal(s["reserved"])) for s in stock] == [(Decimal(100), Decimal(0))]


def test_the_fill_workers_sweeper_returns_a_fill_past_its_window(amqp_url: str, sqlite_url: str) -> None:
    settings = _settings(amqp_url, sqlite_url, return_to_stock_days=TINY_WINDOW_DAYS, return_to_stock_sweep_s=0.2)
    with pharmacy(settings) as ph:
        pid = _to_will_call(ph)
        ph.wait_state(pid, "returned_to_stock")
        eventually(lambda: _reversed(ph, pid), "the B2 reversal approved")
        eventually(lambda: _claim_reversed(ph, pid), "the fill's claim marked reversed")


def test_a_fill_inside_its_window_is_sold(amqp_url: str, sqlite_url: str) -> None:
    settings = _settings(amqp_url, sqlite_url, return_to_stock_sweep_s=0.2)
    with pharmacy(settings) as ph:
        pid = _to_will_call(ph)
        ph.wait_state(pid, "ready")
        assert ph.client("technician").post(f"/api/prescriptions/{pid}/dispense").status_code == 202
        ph.wait_state(pid, "dispensed")


def test_in_prompt_mode_will_call_shows_the_window_and_a_technician_returns_the_fill(
    amqp_url: str, sqlite_url: str
) -> None:
    settings = _settings(
        amqp_url,
        sqlite_url,
        return_to_stock_days=TINY_WINDOW_DAYS,
        return_to_stock_action="prompt",
        return_to_stock_sweep_s=0.2,
    )
    with pharmacy(settings) as ph:
        tech = ph.client("technician")
        pid = _to_will_call(ph)
        ph.wait_state(pid, "ready")
        (line,) = [i for i in tech.get("/api/queues/ready").json() if i["prescription_id"] == pid]
        assert datetime.fromisoformat(line["detail"]["return_by"]) < datetime.now(UTC)
        assert tech.post(f"/api/prescriptions/{pid}/dispense").status_code == 409
        assert ph.wait_state(pid, "ready").state == "ready"  # nobody returned it but a person
        back = tech.post(f"/api/prescriptions/{pid}/return-to-stock", json={"reason": "past the plan's window"})
        assert back.status_code == 202
        ph.wait_state(pid, "returned_to_stock")
        eventually(lambda: _reversed(ph, pid), "the B2 reversal approved")
