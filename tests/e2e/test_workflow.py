"""The pharmacy workflow end to end: HL7 in, simulated payer, staff over real HTTP, events out."""

from __future__ import annotations

from pathlib import Path

import pytest

from hub.config import Settings
from hub.entrypoints.mllp_client import MllpClient
from hub.messaging.topology import Topology
from hub.persistence.audit import AuditTrail
from tests.conftest import make_settings
from tests.support.events import EventSubscriber
from tests.support.pharmacy import Pharmacy, pharmacy

SAMPLES = Path(__file__).resolve().parents[2] / "samples" / "hl7"


@pytest.fixture(params=["sqlite", "postgres"])
def workflow_settings(request: pytest.FixtureRequest, amqp_url: str) -> Settings:
    db = request.getfixturevalue("sqlite_url" if request.param == "sqlite" else "postgres_url")
    return make_settings(
        amqp_url, db, default_bin="999001", default_pcn="RXHUB", default_group="GRP1", payer_timeout_ms=3000
    )


def _stock(ph: Pharmacy, ndc: str, qty: str = "500", lot: str = "LOT-A", expiry: str = "2030-01-31") -> None:
    r = ph.client("technician").post("/api/inventory", json={"ndc": ndc, "lot": lot, "expiry": expiry, "quantity": qty})
    assert r.status_code == 202, r.text


def _send(ph: Pharmacy, name: str) -> bytes:
    with MllpClient("127.0.0.1", ph.hub.mllp_port) as client:
        return client.send((SAMPLES / name).read_bytes())


def _approve(ph: Pharmacy, pid: str, stage: str) -> None:
    r = ph.client("pharmacist").post(f"/api/prescriptions/{pid}/{stage}-verification", json={"approve": True})
    assert r.status_code == 202, r.text


def test_retail_order_reaches_ready_with_the_expected_events(workflow_settings: Settings) -> None:
    topology = Topology(workflow_settings.broker_prefix)
    sub = EventSubscriber(workflow_settings.amqp_url.get_secret_value(), topology.events_exchange)
    try:
        with pharmacy(workflow_settings) as ph:
            _stock(ph, "00093005801")
            assert b"MSA|AA" in _send(ph, "01_rde_o11_retail_amoxicillin.hl7")
            row = ph.by_placer("PLC1001")
            ph.wait_state(row.id, "data_verification")
            _approve(ph, row.id, "data")
            ph.wait_state(row.id, "product_verification")
            _approve(ph, row.id, "product")
            ph.wait_state(row.id, "ready")
            sub.collect(lambda ev: any(e["type"] == "prescription.ready" for e in ev))
            sub.drain(quiet_s=1.0)
    finally:
        sub.close()
    mine = [e["type"] for e in sub.events if e["subject"] == row.id]
    assert mine == [
        "prescription.received",
        "claim.submitted",
        "claim.paid",
        "prescription.verified",
        "fill.completed",
        "fill.verified",
        "prescription.ready",
    ]
    assert len({e["correlationid"] for e in sub.events if e["subject"] == row.id}) == 1
    paid = next(e for e in sub.events if e["type"] == "claim.paid")
    assert paid["data"]["patient_pay"] == "4.15"  # the $5 copay, capped at the claim cost (20 x 0.12 + 1.75)


def test_inpatient_order_skips_the_claim(settings: Settings) -> None:
    """Also: stock delivered under a dashed NDC fills an order of the same product; an NDC that cannot be read
    without guessing (10 digits, no dashes) is refused with a 422."""
    with pharmacy(settings) as ph:
        refused = ph.client("technician").post(
            "/api/inventory", json={"ndc": "0378020801", "lot": "LOT-X", "expiry": "2030-01-31", "quantity": "5"}
        )
        assert refused.status_code == 422 and "not an NDC" in refused.text, refused.text
        for wrong in ({"lot": ""}, {"lot": "L" * 41}, {"quantity": "0.0001"}, {"quantity": "1000000000"}):
            delivery = {"ndc": "00378020801", "lot": "LOT-Y", "expiry": "2030-01-31", "quantity": "5", **wrong}
            refused = ph.client("technician").post("/api/inventory", json=delivery)
            assert refused.status_code == 422, (wrong, refused.status_code, refused.text)
        _stock(ph, "0378-0208-01")
        _send(ph, "02_rde_o11_inpatient_lisinopril.hl7")
        row = ph.by_placer("PLC1002")
        ph.wait_state(row.id, "data_verification")
        _approve(ph, row.id, "data")
        ph.wait_state(row.id, "product_verification")
        _approve(ph, row.id, "product")
        ready = ph.wait_state(row.id, "ready")
    fill = ready.document["fills"][0]
    assert fill["claim"] is None
    assert [h["action"] for h in fill["history"]][:1] == ["skip_claim"]


def test_rejected_claim_waits_until_a_technician_resolves_it(amqp_url: str, sqlite_url: str) -> None:
    settings = make_settings(amqp_url, sqlite_url, default_bin="999001")
    with pharmacy(settings) as ph:
        _stock(ph, "00002821501")
        _send(ph, "03_omp_o09_insulin_needs_prior_auth.hl7")
        row = ph.by_placer("PLC1003")
        ph.wait_state(row.id, "claim_rejected")
        queue = ph.client("technician").get("/api/queues/claim-exceptions").json()
        assert [q["prescription_id"] for q in queue] == [row.id]
        assert queue[0]["detail"]["claim"]["reject_codes"] == ["75"]
        assert "prior authorization" in queue[0]["detail"]["reject_texts"]["75"].lower()
        r = ph.client("technician").post(
            f"/api/prescriptions/{row.id}/claim-resolution",
            json={"action": "resubmit", "prior_auth_number": "PA778899"},
        )
        assert r.status_code == 202, r.text
        done = ph.wait_state(row.id, "data_verification")
        profile = ph.client("pharmacist").get(f"/api/patients/{done.document['patient_id']}/prescriptions").json()
    claim = done.document["fills"][0]["claim"]
    assert claim["status"] == "paid" and claim["attempt"] == 2 and claim["prior_auth_number"] == "PA778899"
    assert [(p["rx_number"], p["state"]) for p in profile] == [(done.rx_number, "data_verification")]


def test_technician_cannot_verify_or_take_verbal_orders_and_is_audited(settings: Settings) -> None:
    with pharmacy(settings) as ph:
        _send(ph, "02_rde_o11_inpatient_lisinopril.hl7")
        row = ph.by_placer("PLC1002")
        ph.wait_state(row.id, "data_verification")
        tech = ph.client("technician")
        assert tech.post(f"/api/prescriptions/{row.id}/data-verification", json={"approve": True}).status_code == 403
        verbal = {
            "patient": {"family_name": "Synthetic", "given_name": "Eve"},
            "prescriber": {"family_name": "Prescriber", "npi": "1234567893"},
            "drug": {"ndc": "00378020801"},
            "quantity": {"value": "30"},
            "sig": "one daily",
            "read_back_confirmed": True,
        }
        assert tech.post("/api/verbal-orders", json=verbal).status_code == 403
        assert ph.client("pharmacist").post("/api/verbal-orders", json=verbal).status_code == 202
        for wrong in ({"refills": -1}, {"days_supply": 0}, {"quantity": {"value": "-30"}}):
            refused = ph.client("pharmacist").post("/api/verbal-orders", json={**verbal, **wrong})
            assert refused.status_code == 422, (wrong, refused.status_code, refused.text)
        refusals = [e for e in AuditTrail(ph.engine).query(actor="tina.tech") if e.outcome == "forbidden"]
        still = ph.wait_state(row.id, "data_verification")
    assert len(refusals) == 2
    assert still.state == "data_verification"


def test_cancel_after_a_paid_claim_sends_a_reversal(settings: Settings) -> None:
    settings = settings.model_copy(update={"default_bin": "999001"})
    topology = Topology(settings.broker_prefix)
    sub = EventSubscriber(settings.amqp_url.get_secret_value(), topology.events_exchange, "claim.#")
    try:
        with pharmacy(settings) as ph:
            _send(ph, "01_rde_o11_retail_amoxicillin.hl7")
            row = ph.by_placer("PLC1001")
            ph.wait_state(row.id, "data_verification")
            r = ph.client("technician").post(f"/api/prescriptions/{row.id}/cancel", json={"reason": "patient moved"})
            assert r.status_code == 202
            ph.wait_state(row.id, "cancelled")
            sub.collect(lambda ev: any(e["type"] == "claim.reversed" for e in ev))
    finally:
        sub.close()
    assert [e["type"] for e in sub.events] == [
        "claim.submitted",
        "claim.paid",
        "claim.reversal_required",
        "claim.reversed",
    ]
