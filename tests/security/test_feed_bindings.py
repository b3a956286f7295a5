"""Feeds as identities: ``rxhub feeds``, and MLLP over mutual TLS where a certificate names the feed."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from hub.entrypoints.cli import main
from hub.entrypoints.inprocess import running_hub
from hub.entrypoints.mllp_client import MllpClient
from hub.persistence.audit import AuditEntry, AuditTrail
from hub.persistence.database import make_engine
from hub.persistence.feeds import FeedStore
from hub.persistence.users import UserStore
from hub.security import tls
from tests.conftest import make_settings
from tests.security.conftest import Pki

SAMPLE = Path(__file__).resolve().parents[2] / "samples" / "hl7" / "02_rde_o11_inpatient_lisinopril.hl7"


def test_feeds_cli_adds_binds_lists_and_removes(
    database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("RXHUB_DATABASE_URL", database_url)
    assert main(["feeds", "add", "ehr-north", "--cert-subject", "ehr-north", "--hl7-sender", "EHR^GENHOSP"]) == 0
    out = capsys.readouterr().out
    assert "token: rxh_" in out
    assert main(["feeds", "add", "ehr-south", "--hl7-sender", "EHR^GENHOSP", "--no-token"]) == 1
    assert "exists already" in capsys.readouterr().err
    assert main(["feeds", "bind", "ehr-north", "--script-from", "D:1234567"]) == 0
    capsys.readouterr()
    assert main(["feeds", "list"]) == 0
    listed = capsys.readouterr().out
    assert "ehr-north" in listed and "hl7 EHR|GENHOSP" in listed and "script D:1234567" in listed
    assert "ehr-south" not in listed  # refused whole
    assert main(["feeds", "remove", "ehr-north"]) == 0
    assert "token revoked" in capsys.readouterr().out
    engine = make_engine(database_url)
    try:
        assert [f.active for f in FeedStore(engine).all()] == [False]
        assert all(not active for user, active in UserStore(engine).list() if user.name == "ehr-north")
    finally:
        engine.dispose()


def test_a_certificate_bound_feed_may_not_send_as_another_feed(pki: Pki, amqp_url: str, tmp_path: Path) -> None:
    settings = make_settings(
        amqp_url,
        f"sqlite:///{tmp_path / 'rxhub.sqlite3'}",
        mllp_tls_cert=pki.dev.server_cert,
        mllp_tls_key=pki.dev.server_key,
        mllp_tls_client_ca=pki.dev.ca,
        mllp_tls_require_client_cert=True,
    )
    with running_hub(settings, with_workers=False) as hub:
        FeedStore(hub.engine).add("north", [("cert", "ehr-north")])
        FeedStore(hub.engine).add("genhosp", [("hl7", "EHR|GENHOSP")])  # the sample's MSH-3/4
        south = tls.client_context(pki.dev.ca, cert=pki.client("ehr-south")[0], key=pki.client("ehr-south")[1])
        with MllpClient("127.0.0.1", hub.mllp_port, timeout_s=10, ssl_context=south) as client:
            unbound = client.send(SAMPLE.read_bytes().replace(b"EHR|GENHOSP", b"EHR|SOUTHSIDE"))
        assert b"MSA|AA" in unbound  # an allowed certificate no feed holds: its own principal, cert:ehr-south
        north = tls.client_context(pki.dev.ca, cert=pki.client("ehr-north")[0], key=pki.client("ehr-north")[1])
        with MllpClient("127.0.0.1", hub.mllp_port, timeout_s=10, ssl_context=north) as client:
            refused = client.send(SAMPLE.read_bytes())
        assert b"MSA|AR" in refused and b"bound to another feed" in refused
        trail = AuditTrail(hub.engine)
        # both entries are written beside their answers, not before them: wait for them
        entries = _receipts(trail, "ehr-north")
        assert [(e.outcome, e.detail["claimed_sender"]) for e in entries] == [("refused", "EHR|GENHOSP")]
        accepted = _receipts(trail, "cert:ehr-south")
        assert [e.detail["claimed_sender"] for e in accepted] == ["EHR|SOUTHSIDE"]


def _receipts(trail: AuditTrail, actor: str, timeout_s: float = 10.0) -> list[AuditEntry]:
    deadline = time.monotonic() + timeout_s
    while True:
        found = [e for e in trail.query(actor=actor) if e.action == "receive message"]
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.05)
