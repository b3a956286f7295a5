"""The security subcommands against a real database, and the audit export validated as FHIR R4B AuditEvents."""

from __future__ import annotations

import json
import ssl
from pathlib import Path

import pytest
from fhir.resources.R4B.bundle import Bundle
from sqlalchemy import update

from hub.entrypoints.cli_security import main
from hub.persistence.audit import AuditTrail
from hub.persistence.database import create_schema, make_engine
from hub.persistence.tables import audit_log
from hub.security.audit_export import audit_bundle


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'rxhub.sqlite3'}"
    monkeypatch.setenv("RXHUB_DATABASE_URL", url)
    engine = make_engine(url)
    create_schema(engine)
    trail = AuditTrail(engine)
    trail.record(actor="EHR|GENHOSP", role="feed", action="receive message", detail={"door": "hl7"})
    trail.record(
        actor="paul.pharm", role="pharmacist", action="read prescription", prescription_id="rx-1", patient_id="pat-1"
    )
    trail.record(actor="tina.tech", role="technician", action="POST /api/verbal-orders", outcome="forbidden")
    trail.record(
        actor="anonymous", role="none", action="GET /api/me", outcome="unauthenticated", detail={"client": "10.0.0.9"}
    )
    trail.record(actor="ada.admin", role="admin", action="dlq replay", detail={"message_id": "m-1"})
    engine.dispose()
    return url


def test_certs_dev_writes_a_ca_and_certificates_that_load(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "certs"
    assert main(["certs", "dev", "--out", str(out), "--client", "ehr-north"]) == 0
    assert 'RXHUB_MLLP_TLS_ALLOWED_SUBJECTS=["ehr-north"]' in capsys.readouterr().out
    context = ssl.create_default_context(cafile=out / "ca.pem")
    context.load_cert_chain(out / "server.pem", out / "server.key")
    assert (out / "server.key").stat().st_mode & 0o077 == 0


def test_audit_verify_passes_then_fails_after_an_edit(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["audit", "verify"]) == 0
    assert "chain intact" in capsys.readouterr().out
    engine = make_engine(db)
    with engine.begin() as conn:
        conn.execute(update(audit_log).where(audit_log.c.seq == 3).values(outcome="ok"))
    engine.dispose()
    assert main(["audit", "verify"]) == 1
    assert "BROKEN entry 3" in capsys.readouterr().out


def test_audit_query_by_patient_and_as_fhir(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["audit", "query", "--patient", "pat-1"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 1 and "paul.pharm" in lines[0]
    assert main(["audit", "query", "--fhir"]) == 0
    bundle = Bundle.model_validate(json.loads(capsys.readouterr().out))
    assert bundle.total == 6  # five entries and the previous query's own entry


def test_every_kind_of_entry_exports_as_a_valid_r4b_audit_event(db: str) -> None:
    engine = make_engine(db)
    entries = AuditTrail(engine).query()
    engine.dispose()
    bundle = Bundle.model_validate(audit_bundle(entries))
    events = [e.resource for e in bundle.entry or []]
    assert [(e.type.code, e.action, e.outcome) for e in events] == [
        ("110107", "C", "0"),
        ("rest", "R", "0"),
        ("110113", "E", "4"),
        ("110114", "E", "4"),
        ("110100", "U", "0"),
    ]
    read = events[1]
    identifiers = {(x.what.identifier.system, x.what.identifier.value) for x in read.entity}
    assert {("urn:rxhub:prescription", "rx-1"), ("urn:rxhub:patient", "pat-1"), ("urn:rxhub:audit", "2")} <= identifiers
    chained = [d.valueString for x in read.entity for d in (x.detail or []) if d.type == "hash"]
    assert chained == [entries[1].hash]


def test_retention_purge_and_broker_users_print(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["retention", "purge", "--days", "30"]) == 0
    assert "the raw bodies of 0 received message(s)" in capsys.readouterr().out
    assert main(["broker-users", "--vhost", "/", "--subscriber", "acme"]) == 0
    script = capsys.readouterr().out
    assert "rxhub-sub-acme" in script and "guest" not in script
