"""Issue 27, parts 1, 3 and 4, over real HTTP with the workers running: the API refuses at once what it can
see (403 without a licence, 409 for the state or unanswered HIGH alerts, 422 for a product or a verbal order
that cannot be right), audited; verbal orders are verbal (taken by a licensed pharmacist, recorded with their
licence, coverage billed); a product-check reject sends the fill back to be picked again.
"""

from __future__ import annotations

import time

import httpx
import pytest

from hub.config import Settings
from hub.persistence.audit import AuditEntry, AuditTrail
from hub.persistence.database import read_connection
from hub.persistence.prescriptions import PrescriptionRepository, PrescriptionRow
from hub.persistence.stock import StockRepository
from hub.persistence.users import UserStore
from tests.conftest import make_settings
from tests.support.pharmacy import Pharmacy, pharmacy
from tests.support.staff import VERBAL, order, outcome, verbal

AMOXICILLIN, LISINOPRIL, OXYCODONE = "00093005801", "00378020801", "00406055201"
#: AP + 123456 + check digit 3: (1+3+5) + 2*(2+4+6) = 33
DEA = "AP1234563"


def refusals(ph: Pharmacy, actor: str, outcome: str = "refused") -> list[AuditEntry]:
    return [e for e in AuditTrail(ph.engine).query(actor=actor) if e.outcome == outcome]


@pytest.fixture
def cash_only(amqp_url: str, sqlite_url: str) -> Settings:
    """No house plan: an order without coverage is cash and goes straight to the pharmacist."""
    return make_settings(amqp_url, sqlite_url)


def test_a_pharmacist_without_a_licence_is_refused_at_once_and_audited(cash_only: Settings) -> None:
    with pharmacy(cash_only) as ph:
        user, token = UserStore(ph.engine).add("una.unlicensed", "pharmacist")
        row = order(ph, VERBAL, state="data_verification")
        unlicensed = httpx.Client(
            base_url=f"http://127.0.0.1:{ph.hub.http_port}", timeout=20, headers={"Authorization": f"Bearer {token}"}
        )
        attempts = [
            unlicensed.post("/api/verbal-orders", json=VERBAL),
            unlicensed.post(f"/api/prescriptions/{row.id}/data-verification", json={"approve": True}),
            unlicensed.post(f"/api/prescriptions/{row.id}/product-verification", json={"approve": True}),
            unlicensed.post(
                f"/api/prescriptions/{row.id}/claim-resolution",
                json={
                    "action": "resubmit",
                    "dur_pps": {"reason_for_service": "ER", "professional_service": "M0", "result_of_service": "1B"},
                },
            ),
        ]
        assert [a.status_code for a in attempts] == [403] * 4, [a.text for a in attempts]
        assert all("licence" in a.json()["detail"] for a in attempts)
        forbidden = refusals(ph, "una.unlicensed", "forbidden")
        untouched = ph.wait_state(row.id, "data_verification")
        with read_connection(ph.engine) as conn:
            verbal_orders = [
                r
                for r in PrescriptionRepository(conn).in_states(["data_verification"])
                if r.document["source"] == "verbal"
            ]
    assert len(forbidden) == 4 and all("licence" in e.detail["reason"] for e in forbidden)
    assert {e.prescription_id for e in forbidden} == {None, row.id}
    assert untouched.version == row.version and [r.id for r in verbal_orders] == [row.id]
    assert user.licence is None


def test_a_verbal_order_is_taken_by_a_licensed_pharmacist_with_dea_and_coverage(cash_only: Settings) -> None:
    with pharmacy(cash_only) as ph:
        pharmacist = ph.client("pharmacist")
        checks = {
            "no read-back": verbal(read_back_confirmed=False),
            "controlled, no DEA": verbal(drug={"ndc": OXYCODONE}),
            "declared controlled, no DEA": verbal(drug={"text": "oxycodone 5 mg", "schedule": "2"}),
            "DEA check digit": verbal(drug={"ndc": OXYCODONE}, prescriber={**VERBAL["prescriber"], "dea": "AP1234560"}),
        }
        answers = {name: pharmacist.post("/api/verbal-orders", json=body) for name, body in checks.items()}
        incomplete = pharmacist.post("/api/verbal-orders", json=verbal(coverage={"bin": "999001"}))
        audited = refusals(ph, "paul.pharm")
        controlled = order(
            ph,
            verbal(drug={"ndc": OXYCODONE}, prescriber={**VERBAL["prescriber"], "dea": DEA}, quantity={"value": "10"}),
            state="data_verification",
        )
        covered = order(
            ph,
            verbal(coverage={"bin": "999001", "pcn": "RXHUB", "group_id": "GRP1", "cardholder_id": "ZX1234567"}),
            state="data_verification",
        )
        taken = AuditTrail(ph.engine).query(prescription_id=covered.id)
    assert {name: a.status_code for name, a in answers.items()} == dict.fromkeys(checks, 422)
    assert "read the order back" in answers["no read-back"].json()["detail"]["reason"]
    assert "Schedule 2" in answers["controlled, no DEA"].json()["detail"]["reason"]
    assert "Schedule 2" in answers["declared controlled, no DEA"].json()["detail"]["reason"]
    assert "check digit" in answers["DEA check digit"].json()["detail"]["reason"]
    assert incomplete.status_code == 422 and "cardholder_id" in incomplete.text
    assert len(audited) == 4 and {e.action for e in audited} == {"request ReceivePrescription"}
    # verbal: taken by the pharmacist, with the licence on record, and no alert nobody can clear
    for row in (controlled, covered):
        assert (row.document["source"], row.document["owner"]) == ("verbal", None)
        assert row.document["received_by"] == row.document["verbal_taken_by"]
        assert row.document["verbal_licence"] == "RPH-12345"
    assert [a["kind"] for a in controlled.document["alerts"]] == []
    verbal_audit = next(e for e in taken if e.action == "verbal-order-taken")
    assert verbal_audit.detail["licence"] == "RPH-12345" and verbal_audit.detail["taken_by"] == "paul.pharm"
    # the coverage read off the card reached the payer: the claim was billed to it and paid
    claim = covered.document["fills"][0]["claim"]
    assert (claim["bin"], claim["cardholder_id"], claim["status"]) == ("999001", "ZX1234567", "paid")
    assert controlled.document["fills"][0]["claim"]["status"] == "cash"


def test_an_approval_that_leaves_a_high_alert_unanswered_is_refused_with_the_alert(cash_only: Settings) -> None:
    with pharmacy(cash_only) as ph:
        allergic = {**VERBAL["patient"], "allergies": [{"text": "Penicillin", "severity": "SV"}]}
        row = order(ph, verbal(patient=allergic, drug={"ndc": AMOXICILLIN}), state="data_verification")
        (alert,) = [a for a in row.document["alerts"] if a["severity"] == "high"]
        url = f"/api/prescriptions/{row.id}/data-verification"
        pharmacist = ph.client("pharmacist")
        unanswered = pharmacist.post(url, json={"approve": True})
        unknown = pharmacist.post(url, json={"approve": True, "overrides": [[alert["alert_id"], "ok"], ["A99", "x"]]})
        no_reason = pharmacist.post(url, json={"approve": True, "overrides": [[alert["alert_id"], " "]]})
        still = ph.wait_state(row.id, "data_verification")
        approved = pharmacist.post(url, json={"approve": True, "overrides": [[alert["alert_id"], "tolerated before"]]})
        assert approved.status_code == 202, approved.text
        applied = outcome(ph, approved.json()["command_id"])
        moved = ph.wait_state(row.id, "filling")
        again = pharmacist.post(url, json={"approve": True})
        early = pharmacist.post(f"/api/prescriptions/{row.id}/product-verification", json={"approve": True})
        dispense = ph.client("technician").post(f"/api/prescriptions/{row.id}/dispense")
        audited = refusals(ph, "paul.pharm") + refusals(ph, "tina.tech")
    assert unanswered.status_code == 409
    detail = unanswered.json()["detail"]
    assert (
        detail["alerts"]
        == [{"alert_id": alert["alert_id"], "severity": "high", "kind": "drug_allergy", "text": alert["text"]}]
        and "Penicillin" in alert["text"]
    )
    assert alert["alert_id"] in detail["reason"]
    assert unknown.status_code == 422 and "A99" in unknown.json()["detail"]["reason"]
    assert no_reason.status_code == 422 and "reason" in no_reason.json()["detail"]["reason"]
    assert still.version == row.version
    assert applied["status"] == "applied" and applied["rx_number"] == row.rx_number
    assert [a["override"]["licence"] for a in moved.document["alerts"] if a["alert_id"] == alert["alert_id"]] == [
        "RPH-12345"
    ]
    assert [(a.status_code, a.json()["detail"]["state"]) for a in (again, early, dispense)] == [(409, "filling")] * 3
    assert [e.detail["status"] for e in audited] == [409, 422, 422, 409, 409, 409]
    assert all(e.prescription_id == row.id for e in audited)


def test_a_product_choice_must_be_in_the_catalogue_and_fit_the_order(cash_only: Settings) -> None:
    with pharmacy(cash_only) as ph:
        row = order(
            ph,
            verbal(drug={"ndc": "0143963401", "text": "nicardipine 40 mg/200 mL premixed"}, setting="inpatient"),
            state="needs_product",
        )
        url = f"/api/prescriptions/{row.id}/product"
        tech = ph.client("technician")
        unreadable = [tech.post(url, json={"ndc": ndc}) for ndc in ("abc", "0143963401")]
        unknown = tech.post(url, json={"ndc": "00000-0000-00"})
        other_drug = tech.post(url, json={"ndc": "0378-0208-01"})
        still = ph.wait_state(row.id, "needs_product")
        chosen = tech.post(url, json={"ndc": "0143-9634-01"})
        assert chosen.status_code == 202, chosen.text
        applied = outcome(ph, chosen.json()["command_id"], "technician")
        moved = ph.wait_state(row.id, "data_verification")
        twice = tech.post(url, json={"ndc": "0143-9634-01"})
        audited = refusals(ph, "tina.tech")
    assert [a.status_code for a in unreadable] == [422, 422] and all("NDC" in a.text for a in unreadable)
    assert unknown.status_code == 422 and "not in the drug catalogue" in unknown.json()["detail"]["reason"]
    assert other_drug.status_code == 422
    assert "names nicardipine" in other_drug.json()["detail"]["reason"]
    assert still.version == row.version
    assert applied["status"] == "applied" and moved.document["product"]["ndc11"] == "00143963401"
    assert twice.status_code == 409 and twice.json()["detail"]["state"] == "data_verification"
    assert [e.detail["status"] for e in audited] == [422, 422, 409]


def test_a_product_check_reject_sends_the_fill_back_to_be_picked_again(cash_only: Settings) -> None:
    with pharmacy(cash_only) as ph:
        stocked = ph.client("technician").post(
            "/api/inventory", json={"ndc": LISINOPRIL, "lot": "LOT-R", "expiry": "2030-01-31", "quantity": "100"}
        )
        assert outcome(ph, stocked.json()["command_id"], "technician")["status"] == "applied"
        row = order(ph, VERBAL, state="data_verification")
        pharmacist = ph.client("pharmacist")
        url = f"/api/prescriptions/{row.id}/product-verification"
        pharmacist.post(f"/api/prescriptions/{row.id}/data-verification", json={"approve": True})
        ph.wait_state(row.id, "product_verification")
        rejected = pharmacist.post(url, json={"approve": False, "reason": "label smudged"})
        assert outcome(ph, rejected.json()["command_id"])["status"] == "applied"
        again = _refilled(ph, row.id)
        with read_connection(ph.engine) as conn:
            (lot,) = StockRepository(conn).lots(LISINOPRIL)
        approved = pharmacist.post(url, json={"approve": True})
        assert outcome(ph, approved.json()["command_id"])["status"] == "applied"
        ready = ph.wait_state(row.id, "ready")
    actions = [h["action"] for h in again.document["fills"][0]["history"]]
    assert actions[-3:] == ["complete_fill", "reject_product", "complete_fill"]
    assert again.document["fills"][0]["label"] is not None
    assert (lot.on_hand, lot.reserved) == (100, 30)  # picked once more, the rejected pick released
    assert ready.state == "ready"


def _refilled(ph: Pharmacy, prescription_id: str, timeout_s: float = 30) -> PrescriptionRow:
    """The prescription once its fill, rejected at the product check, was picked again."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        row = ph.wait_state(prescription_id, "product_verification", "filling")
        if [h["action"] for h in row.document["fills"][0]["history"]].count("complete_fill") == 2:
            return row
        time.sleep(0.05)
    raise AssertionError("the rejected fill was never picked again")
