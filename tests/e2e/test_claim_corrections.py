"""Corrections of a rejected claim's insurance (issue 33, part 3): a claim the payer rejects 07 (M/I cardholder)
is corrected by a technician, audited under their name, and paid on resubmission."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import select

from adapters.ncpdp.payer.config import load_payer_config
from hub.config import Settings
from hub.entrypoints.mllp_client import MllpClient
from hub.persistence.tables import audit_log
from tests.conftest import make_settings
from tests.e2e.test_claim_fields import RecordingPayer
from tests.support.pharmacy import Pharmacy, pharmacy

AMOXICILLIN = Path(__file__).resolve().parents[2] / "samples" / "hl7" / "01_rde_o11_retail_amoxicillin.hl7"
MEMBER = "ZX1234567"


def _settings(amqp_url: str, sqlite_url: str) -> Settings:
    return make_settings(amqp_url, sqlite_url, default_bin="999001", payer_timeout_ms=5000)


def _order(ph: Pharmacy) -> str:
    raw = AMOXICILLIN.read_bytes()
    with MllpClient("127.0.0.1", ph.hub.mllp_port) as client:
        assert b"MSA|AA" in client.send(raw)
    return ph.by_placer(raw.split(b"ORC|NW|")[1].split(b"^")[0].decode()).id


def test_reject_07_corrected_by_a_technician_is_paid(amqp_url: str, sqlite_url: str) -> None:
    settings = _settings(amqp_url, sqlite_url)
    config = load_payer_config(settings.payer_sim_config).model_copy(update={"members": (MEMBER,)})
    payer = RecordingPayer(config)
    with pharmacy(settings, simulator=payer) as ph:
        pid = _order(ph)
        rejected = ph.wait_state(pid, "claim_rejected")
        tech = ph.client("technician")
        url = f"/api/prescriptions/{pid}/claim-resolution"
        bad = tech.post(url, json={"action": "resubmit", "coverage": {"bin": "61001"}})
        accepted = tech.post(
            url, json={"action": "resubmit", "coverage": {"cardholder_id": MEMBER, "person_code": "01"}}
        )
        paid = ph.wait_state(pid, "data_verification")
        with ph.engine.connect() as conn:
            audits = conn.execute(
                select(audit_log.c.actor, audit_log.c.role, audit_log.c.detail).where(
                    audit_log.c.prescription_id == pid, audit_log.c.action == "claim-coverage-corrected"
                )
            ).all()
    assert rejected.document["fills"][0]["claim"]["reject_codes"] == ["07"]
    assert bad.status_code == 422  # a BIN is six digits
    assert accepted.status_code == 202
    claim = paid.document["fills"][0]["claim"]
    assert (claim["status"], claim["attempt"]) == ("paid", 2)
    assert (claim["cardholder_id"], claim["person_code"], claim["bin"]) == (MEMBER, "01", "999001")
    first, second = payer.received
    assert first.insurance is not None and first.insurance.cardholder_id != MEMBER
    assert second.insurance is not None
    assert (second.insurance.cardholder_id, second.insurance.person_code) == (MEMBER, "01")
    [(actor, role, detail)] = audits
    assert role == "technician" and actor != "system"
    assert json.loads(detail)["corrected"] == ["cardholder_id", "person_code"]
