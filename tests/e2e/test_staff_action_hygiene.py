"""Staff actions through the whole hub: an Idempotency-Key names one action (409 when reused for another), and
a technician sees what was done to a prescription, not its audit trail."""

from __future__ import annotations

from hub.config import Settings
from tests.support.pharmacy import pharmacy
from tests.support.staff import order, outcome, verbal


def test_an_idempotency_key_reused_for_another_prescription_is_409_not_a_silent_drop(settings: Settings) -> None:
    with pharmacy(settings) as ph:
        first = order(ph, verbal(), state="data_verification")
        second = order(ph, verbal(drug={"ndc": "00093005801"}), state="data_verification")
        tech = ph.client("technician")
        key = {"Idempotency-Key": "cancel-1"}
        cancelled = tech.post(f"/api/prescriptions/{first.id}/cancel", json={"reason": "duplicate"}, headers=key)
        assert cancelled.status_code == 202, cancelled.text
        retried = tech.post(f"/api/prescriptions/{first.id}/cancel", json={"reason": "duplicate"}, headers=key)
        assert retried.status_code == 202 and retried.json()["command_id"] == cancelled.json()["command_id"], (
            retried.text
        )

        reused = tech.post(f"/api/prescriptions/{second.id}/cancel", json={"reason": "duplicate"}, headers=key)
        assert reused.status_code == 409, reused.text
        assert "cancel-1" in reused.json()["detail"]
        assert outcome(ph, cancelled.json()["command_id"], "technician")["status"] == "applied"
        ph.wait_state(first.id, "cancelled")
        assert ph.client("pharmacist").get(f"/api/prescriptions/{second.id}").json()["state"] == "data_verification"

        other_action = tech.post(f"/api/prescriptions/{first.id}/dispense", headers=key)
        assert other_action.status_code == 409, "the same key for another command on the same prescription"
        fresh = tech.post(
            f"/api/prescriptions/{second.id}/cancel",
            json={"reason": "duplicate"},
            headers={"Idempotency-Key": "cancel-2"},
        )
        assert fresh.status_code == 202
        ph.wait_state(second.id, "cancelled")


def test_a_retried_verbal_order_with_its_key_is_one_prescription(settings: Settings) -> None:
    with pharmacy(settings) as ph:
        pharmacist, key = ph.client("pharmacist"), {"Idempotency-Key": "verbal-1"}
        taken = pharmacist.post("/api/verbal-orders", json=verbal(), headers=key)
        assert taken.status_code == 202, taken.text
        done = outcome(ph, taken.json()["command_id"])
        again = pharmacist.post("/api/verbal-orders", json=verbal(), headers=key)
        assert again.status_code == 202 and again.json()["command_id"] == taken.json()["command_id"], again.text
        assert outcome(ph, again.json()["command_id"])["prescription_id"] == done["prescription_id"]


def test_a_technician_sees_the_actions_on_a_prescription_but_not_its_audit(settings: Settings) -> None:
    with pharmacy(settings) as ph:
        rx = order(ph, verbal(), state="data_verification")
        ph.client("pharmacist").get(f"/api/prescriptions/{rx.id}")  # a read, audited
        cancelled = ph.client("technician").post(f"/api/prescriptions/{rx.id}/cancel", json={"reason": "dup"})
        assert outcome(ph, cancelled.json()["command_id"], "technician")["status"] == "applied"
        seen_by_tech = ph.client("technician").get(f"/api/prescriptions/{rx.id}").json()
        assert "audit" not in seen_by_tech
        actions = seen_by_tech["actions"]
        assert {(a["action"], a["actor"]) for a in actions} >= {("request CancelByPharmacy", "tina.tech")}
        assert all(a["action"].startswith(("request ", "apply ")) for a in actions), "no reads, no refusals"
        assert {"actor", "action", "outcome", "at"} <= set(actions[0]) and "detail" not in actions[0]
        seen_by_pharmacist = ph.client("pharmacist").get(f"/api/prescriptions/{rx.id}").json()
        assert any(e["action"].startswith("read") for e in seen_by_pharmacist["audit"])
        assert "actions" not in seen_by_pharmacist
