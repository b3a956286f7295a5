"""The audit trail exported as FHIR R4 AuditEvents: valid for Medplum's R4 validator, outcomes coded as
audit-event-outcome means them, a searchset Bundle served as FHIR JSON and searched by date, patient, agent."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from hub.persistence.audit import AuditTrail
from hub.persistence.database import create_schema, make_engine
from hub.security.audit_export import audit_bundle
from tests.conftest import make_settings
from tests.security.http_app import App, http_app
from tests.support.fhir_validator import FhirValidator, fhir_validator

__all__ = ["fhir_validator"]

#: (outcome as the trail holds it, audit-event-outcome code)
OUTCOMES = [
    ("ok", "0"),
    ("accepted", "0"),
    ("AA", "0"),
    ("CA", "0"),
    ("duplicate", "0"),
    ("refused", "4"),
    ("error", "4"),
    ("AE", "4"),
    ("AR", "4"),
    ("forbidden", "4"),
    ("unauthenticated", "4"),
    ("expired", "4"),
    ("rate-limited", "4"),
    ("not_stored", "8"),
]


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


@pytest.fixture
def trail(tmp_path: Path) -> Iterator[AuditTrail]:
    engine = make_engine(f"sqlite:///{tmp_path / 'audit.sqlite3'}")
    create_schema(engine)
    yield AuditTrail(engine)
    engine.dispose()


def test_every_outcome_is_coded_by_what_it_means_and_every_event_validates(
    trail: AuditTrail, fhir_validator: FhirValidator
) -> None:
    for outcome, _ in OUTCOMES:
        trail.record(
            actor="EHR|GENHOSP",
            role="feed",
            action="receive message",
            outcome=outcome,
            detail={"door": "hl7", "control_id": "", "claimed_sender": None, "note": "\x1b[31m"},
        )
    trail.record(actor="", role="", action="read  prescription", prescription_id="rx-1", patient_id="pat-1")
    bundle = audit_bundle(trail.query())
    fhir_validator.assert_valid(bundle, "audit export")
    events = [e["resource"] for e in bundle["entry"]]
    for event in events:
        fhir_validator.assert_valid(event, event["id"])
    assert [(e["outcomeDesc"], e["outcome"]) for e in events[: len(OUTCOMES)]] == OUTCOMES
    assert bundle["type"] == "searchset" and bundle["total"] == len(OUTCOMES) + 1
    assert all(s.strip() for s in _strings(bundle)), "no empty strings anywhere"
    assert all("\x1b" not in s for s in _strings(bundle)), "no control characters"
    assert events[-1]["subtype"][0]["code"] == "read prescription" and events[-1]["agent"][0]["who"]["display"]


@pytest.fixture
def app(amqp_url: str, tmp_path: Path) -> Iterator[App]:
    settings = make_settings(amqp_url, f"sqlite:///{tmp_path / 'rxhub.sqlite3'}")
    with http_app(settings) as running:
        yield running


def test_the_export_is_fhir_json_searchable_by_date_patient_and_agent(app: App, fhir_validator: FhirValidator) -> None:
    trail: AuditTrail = app.services.audit
    trail.record(actor="paul.pharm", role="pharmacist", action="read patient profile", patient_id="pat-1")
    trail.record(actor="tina.tech", role="technician", action="read patient profile", patient_id="pat-2")
    admin = app.as_role("admin")

    def search(**params: str) -> dict[str, Any]:
        answer = app.client.get("/api/admin/audit", params={"format": "fhir", **params}, headers=admin)
        assert answer.status_code == 200, answer.text
        assert answer.headers["content-type"].startswith("application/fhir+json")
        bundle = answer.json()
        fhir_validator.assert_valid(bundle, f"audit search {params}")
        return bundle

    def actors(bundle: dict[str, Any]) -> list[str]:
        return [e["resource"]["agent"][0]["who"]["display"] for e in bundle.get("entry", [])]

    assert actors(search(patient="Patient/pat-1")) == ["paul.pharm"]
    assert actors(search(agent="tina.tech")) == ["tina.tech"]
    today = datetime.now(UTC).date()
    assert "paul.pharm" in actors(search(date=f"eq{today.isoformat()}"))
    assert actors(search(date=f"gt{today.isoformat()}")) == []
    assert actors(search(date=f"lt{(today - timedelta(days=1)).isoformat()}")) == []
    found = search(date=f"ge{today.isoformat()}", agent="paul.pharm")
    assert actors(found) == ["paul.pharm"] and found["total"] == 1
    assert found["link"][0]["relation"] == "self"
    refused = app.client.get("/api/admin/audit", params={"format": "fhir", "date": "yesterday"}, headers=admin)
    assert refused.status_code == 400
