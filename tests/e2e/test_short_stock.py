"""Short stock through the running hub: the fill waits with the choice, and a person's partial fill goes on to
will-call and pickup with the rest owed (issue 33, part 5)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from tests.e2e.test_claims import _order, _settings
from tests.support.pharmacy import Pharmacy, pharmacy
from tests.support.waiting import eventually


def _fill(ph: Pharmacy, pid: str) -> dict[str, Any]:
    fills: list[dict[str, Any]] = (
        ph.client("pharmacist").get(f"/api/prescriptions/{pid}").json()["prescription"]["fills"]
    )
    return fills[-1]


def _short_noted(ph: Pharmacy, pid: str) -> dict[str, Any] | None:
    fill = _fill(ph, pid)
    return fill if fill["short_stock"] is not None else None


def test_short_stock_waits_for_the_choice_then_a_partial_fill_is_sold(amqp_url: str, sqlite_url: str) -> None:
    with pharmacy(_settings(amqp_url, sqlite_url)) as ph:
        tech, rph = ph.client("technician"), ph.client("pharmacist")
        stocked = tech.post(
            "/api/inventory", json={"ndc": "00093005801", "lot": "L1", "expiry": "2030-01-01", "quantity": "8"}
        )
        assert stocked.status_code == 202
        pid = _order(ph)  # 20 capsules ordered
        ph.wait_state(pid, "data_verification")
        assert rph.post(f"/api/prescriptions/{pid}/data-verification", json={"approve": True}).status_code == 202
        waiting = eventually(lambda: _short_noted(ph, pid), "the short stock shown on the fill")
        assert waiting["state"] == "filling" and waiting["picks"] == [] and waiting["partial"] is None
        short = waiting["short_stock"]
        assert (Decimal(short["available"]), Decimal(short["needed"])) == (8, 20)

        refused = tech.post(f"/api/prescriptions/{pid}/short-stock", json={"choice": "partial", "reason": ""})
        assert refused.status_code == 422
        wait = tech.post(f"/api/prescriptions/{pid}/short-stock", json={"choice": "wait", "reason": "order due"})
        assert wait.status_code == 202
        eventually(lambda: _fill(ph, pid)["partial"], "the wait recorded")
        assert _fill(ph, pid)["state"] == "filling"

        partial = tech.post(
            f"/api/prescriptions/{pid}/short-stock", json={"choice": "partial", "reason": "patient needs it today"}
        )
        assert partial.status_code == 202
        # the claim paid for the whole is billed again for the part (343-HD P) and reviewed again
        ph.wait_state(pid, "data_verification")
        assert rph.post(f"/api/prescriptions/{pid}/data-verification", json={"approve": True}).status_code == 202
        ph.wait_state(pid, "product_verification")
        assert rph.post(f"/api/prescriptions/{pid}/product-verification", json={"approve": True}).status_code == 202
        ph.wait_state(pid, "ready")
        assert tech.post(f"/api/prescriptions/{pid}/dispense").status_code == 202
        ph.wait_state(pid, "dispensed")
        fill = _fill(ph, pid)
    assert fill["partial"]["choice"] == "partial" and fill["partial"]["reason"] == "patient needs it today"
    assert fill["partial"]["decided_by"] and fill["short_stock"] is None
    assert (Decimal(fill["quantity_dispensed"]), Decimal(fill["owed"])) == (8, 12)
    assert Decimal(fill["label"]["quantity"]) == 8
    assert (fill["dispensing_status"], Decimal(fill["quantity_intended"])) == ("P", 20)
    assert (fill["claim"]["attempt"], fill["claim"]["status"]) == (2, "paid")


def test_waiting_for_stock_fills_in_full_when_the_delivery_comes(amqp_url: str, sqlite_url: str) -> None:
    with pharmacy(_settings(amqp_url, sqlite_url)) as ph:
        tech, rph = ph.client("technician"), ph.client("pharmacist")
        delivery = {"ndc": "00093005801", "lot": "L1", "expiry": "2030-01-01", "quantity": "8"}
        assert tech.post("/api/inventory", json=delivery).status_code == 202
        pid = _order(ph)
        ph.wait_state(pid, "data_verification")
        assert rph.post(f"/api/prescriptions/{pid}/data-verification", json={"approve": True}).status_code == 202
        eventually(lambda: _short_noted(ph, pid), "the short stock shown on the fill")
        wait = tech.post(f"/api/prescriptions/{pid}/short-stock", json={"choice": "wait", "reason": "order due"})
        assert wait.status_code == 202
        eventually(lambda: _fill(ph, pid)["partial"], "the wait recorded")
        assert tech.post("/api/inventory", json={**delivery, "lot": "L2", "quantity": "50"}).status_code == 202
        ph.wait_state(pid, "product_verification")
        fill = _fill(ph, pid)
    assert (Decimal(fill["quantity_dispensed"]), Decimal(fill["owed"])) == (20, 0)
    assert fill["short_stock"] is None and fill["partial"]["choice"] == "wait"
