"""E1 eligibility from the API (issue 33, part 3): the check goes through the claim worker and the payer exchange,
is kept in the claim ledger as an E1, and its answer is read back; an unknown member is rejected 07."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import select

from adapters.ncpdp.payer.config import load_payer_config
from hub.persistence.tables import claim_transmissions
from tests.conftest import make_settings
from tests.e2e.test_claim_corrections import MEMBER, _order
from tests.e2e.test_claim_fields import RecordingPayer
from tests.support.pharmacy import pharmacy
from tests.support.waiting import eventually


def _answer(tech: httpx.Client, check_id: str) -> dict[str, Any] | None:
    answer: dict[str, Any] = tech.get(f"/api/eligibility/{check_id}").json()
    return None if answer["status"] == "pending" else answer


def test_eligibility_check_from_the_api(amqp_url: str, sqlite_url: str) -> None:
    settings = make_settings(amqp_url, sqlite_url, default_bin="999001", payer_timeout_ms=5000)
    config = load_payer_config(settings.payer_sim_config).model_copy(update={"members": (MEMBER,)})
    payer = RecordingPayer(config)
    with pharmacy(settings, simulator=payer) as ph:
        row = ph.wait_state(_order(ph), "claim_rejected")
        patient_id = row.document["patient_id"]
        tech = ph.client("technician")
        unknown = tech.post("/api/patients/no-such-patient/eligibility", json={})
        asked = tech.post(f"/api/patients/{patient_id}/eligibility", json={})
        not_member = eventually(lambda: _answer(tech, asked.json()["check_id"]), "the E1 answered")
        again = tech.post(
            f"/api/patients/{patient_id}/eligibility", json={"coverage": {"cardholder_id": MEMBER, "person_code": "01"}}
        )
        member = eventually(lambda: _answer(tech, again.json()["check_id"]), "the second E1 answered")
        with ph.engine.connect() as conn:
            ledger = conn.execute(
                select(claim_transmissions.c.transaction, claim_transmissions.c.purpose).where(
                    claim_transmissions.c.prescription_id == again.json()["check_id"]
                )
            ).all()
    assert unknown.status_code == 404
    assert asked.status_code == 202 and again.status_code == 202
    assert (not_member["status"], not_member["eligible"], not_member["reject_codes"]) == ("R", False, ["07"])
    assert (member["status"], member["eligible"]) == ("A", True)
    assert ledger == [("E1", "eligibility")]
    e1s = [r for r in payer.received if r.transaction_code == "E1"]
    assert len(e1s) == 2 and not e1s[1].transactions
    assert e1s[1].insurance is not None and e1s[1].insurance.cardholder_id == MEMBER
    assert e1s[1].patient is not None and e1s[1].patient.last_name == "Synthetic"
