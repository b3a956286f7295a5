"""An insider who can write the database cannot rewrite the audit trail unnoticed (issue 31).

With ``RXHUB_AUDIT_KEY`` a row inserted by hand is never sealed and ``verify`` names it; an edit with the
plain hashes recomputed fails; ``verify`` never seals; on PostgreSQL the table refuses UPDATE and DELETE of
sealed entries, also to a role granted as docs/security.md says.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import Engine, insert, select, text, update
from sqlalchemy.exc import DBAPIError

from hub.entrypoints.cli_security import main
from hub.persistence import audit
from hub.persistence.audit import AuditTrail
from hub.persistence.audit_reseal import head_anchor, rekey
from hub.persistence.chain_sealer import seal
from hub.persistence.database import create_schema, make_engine
from hub.persistence.tables import audit_log
from hub.security import audit_anchors
from hub.security.audit_chain import GENESIS, entry_hash
from hub.security.audit_keys import AuditKeys, with_audit_keys
from tests.support.audit_tamper import owner_edits

KEY = "k" * 40
FORGED = {
    "actor": "pharm1",
    "role": "pharmacist",
    "action": "approve",
    "prescription_id": "rx-9",
    "outcome": "ok",
    "detail": "{}",
}


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = with_audit_keys(make_engine(database_url), AuditKeys([KEY]))
    create_schema(engine)
    yield engine
    engine.dispose()


def _write(engine: Engine, n: int = 3) -> AuditTrail:
    trail = AuditTrail(engine)
    for i in range(n):
        trail.record(actor=f"user{i}", role="pharmacist", action="verify", prescription_id=f"rx-{i}")
    trail.seal()
    return trail


def _forge(engine: Engine, *, age: timedelta = timedelta(days=2)) -> int:
    with engine.begin() as conn:
        return int(conn.execute(insert(audit_log).values(at=datetime.now(UTC) - age, **FORGED)).inserted_primary_key[0])


def test_a_row_forged_into_the_table_is_reported_and_never_sealed(engine: Engine) -> None:
    trail = _write(engine)
    forged = _forge(engine)
    assert trail.seal() == 0, "the sealer chains no row without its writer's tag"
    report = trail.verify()
    assert [(p.id, p.reason) for p in report.problems] == [
        (forged, "not written by a hub process (no valid writer's tag): inserted into the table directly")
    ]
    trail.record(actor="user9", role="admin", action="after")
    trail.seal()
    with engine.connect() as conn:
        assert conn.execute(select(audit_log.c.hash).where(audit_log.c.id == forged)).scalar() is None
    assert trail.verify().checked == 4, "genuine entries are chained past the forged one"


def test_verify_from_the_command_line_reports_a_forged_row_and_does_not_seal_it(
    database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("RXHUB_DATABASE_URL", database_url)
    monkeypatch.setenv("RXHUB_AUDIT_KEY", KEY)
    engine = with_audit_keys(make_engine(database_url), AuditKeys([KEY]))
    create_schema(engine)
    _write(engine)
    forged = _forge(engine, age=timedelta(0))
    assert main(["audit", "verify"]) == 1
    out = capsys.readouterr().out
    assert f"(row {forged}): not written by a hub process" in out and "chain BROKEN" in out
    with engine.connect() as conn:
        assert conn.execute(select(audit_log.c.hash).where(audit_log.c.id == forged)).scalar() is None
    engine.dispose()


def test_an_edit_with_the_plain_hashes_recomputed_fails(engine: Engine) -> None:
    trail = _write(engine, 4)
    with owner_edits(engine) as conn:
        rows = [dict(r) for r in conn.execute(select(audit_log).order_by(audit_log.c.seq)).mappings()]
        prev = GENESIS
        for row in rows:  # the whole chain rewritten from entry 2 on, as SHA-256 could be
            if row["seq"] == 2:
                row["actor"] = "someone.else"
            digest = entry_hash(row, prev)
            conn.execute(
                update(audit_log)
                .where(audit_log.c.id == row["id"])
                .values(actor=row["actor"], prev_hash=prev, hash=digest, key_id=None)
            )
            prev = digest
    problems = trail.verify().problems
    assert len(problems) == 4 and all("sealed without RXHUB_AUDIT_KEY" in p.reason for p in problems)
    with owner_edits(engine) as conn:  # keeping the key id: the plain hash is no HMAC
        conn.execute(update(audit_log).values(key_id=AuditKeys([KEY]).sealing_id))
    assert {p.reason for p in trail.verify().problems} == {"content does not match its hash"}


def test_an_unsealed_entry_older_than_the_sealing_interval_is_reported(database_url: str) -> None:
    engine = make_engine(database_url)  # no key: only the age shows
    create_schema(engine)
    old = _forge(engine, age=timedelta(minutes=5))
    young = _forge(engine, age=timedelta(0))
    report = AuditTrail(engine).verify()
    assert [(p.id, p.reason) for p in report.problems] == [
        (old, "not sealed into the chain for longer than the sealing interval")
    ]
    assert report.pending == 1 and young
    engine.dispose()


def test_rekey_moves_a_plain_chain_to_the_key_and_refuses_a_broken_one(database_url: str) -> None:
    plain = make_engine(database_url)
    create_schema(plain)
    _write(plain, 3)
    plain.dispose()
    keyed = with_audit_keys(make_engine(database_url), AuditKeys([KEY]))
    trail = AuditTrail(keyed)
    assert {p.reason for p in trail.verify().problems} == {
        "sealed without RXHUB_AUDIT_KEY (plain hash): re-seal with rxhub audit rekey"
    }
    report, resealed = rekey(keyed)
    assert report.ok and resealed == 3
    assert trail.verify().ok and trail.verify().checked == 3
    with owner_edits(keyed) as conn:
        conn.execute(update(audit_log).where(audit_log.c.seq == 2).values(actor="x", key_id=None))
    report, resealed = rekey(keyed)
    assert not report.ok and resealed == 0
    keyed.dispose()


def test_signed_anchors_catch_a_cut_off_end_and_a_line_added_by_hand(
    engine: Engine,
    tmp_path: Path,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("RXHUB_DATABASE_URL", database_url)
    monkeypatch.setenv("RXHUB_AUDIT_KEY", KEY)
    anchors = tmp_path / "anchors.jsonl"
    _write(engine, 4)
    assert main(["audit", "anchor", "--to", str(anchors)]) == 0
    assert anchors.stat().st_mode & 0o077 == 0
    assert main(["audit", "verify", "--anchors", str(anchors)]) == 0
    assert "1 anchor(s) held to" in capsys.readouterr().out
    forged = head_anchor(engine).model_copy(update={"seq": 9, "sig": "0" * 64})  # type: ignore[union-attr]
    with anchors.open("a") as out:
        out.write(forged.model_dump_json() + "\n")
    assert main(["audit", "verify", "--anchors", str(anchors)]) == 1
    assert "anchor of entry 9: signature does not hold" in capsys.readouterr().out
    with owner_edits(engine) as conn:
        conn.execute(text("DELETE FROM audit_log WHERE seq = 4"))
    good = [a for a in audit_anchors.read(anchors) if not isinstance(a, str) and a.seq == 4]
    report = AuditTrail(engine).verify(anchored_at={a.seq: a.hash for a in good})
    assert [(p.seq, p.reason) for p in report.problems] == [
        (4, "anchored entry no longer in the chain: entries cut off")
    ]


@pytest.fixture
def pg_engine(postgres_url: str) -> Iterator[Engine]:
    engine = with_audit_keys(make_engine(postgres_url), AuditKeys([KEY]))
    create_schema(engine)
    yield engine
    engine.dispose()


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_log SET actor = 'someone.else' WHERE seq = 2",
        "UPDATE audit_log SET seq = 7 WHERE seq = 2",
        "DELETE FROM audit_log WHERE seq = 2",
        "TRUNCATE audit_log",
    ],
)
def test_postgresql_refuses_changes_to_sealed_entries(pg_engine: Engine, statement: str) -> None:
    _write(pg_engine)
    with pytest.raises(DBAPIError, match="audit_log is append-only"), pg_engine.begin() as conn:
        conn.exec_driver_sql(statement)
    assert AuditTrail(pg_engine).verify().ok


def test_postgresql_refuses_changing_an_unsealed_entrys_content(pg_engine: Engine) -> None:
    forged = _forge(pg_engine)
    with pytest.raises(DBAPIError, match="cannot change"), pg_engine.begin() as conn:
        conn.execute(update(audit_log).where(audit_log.c.id == forged).values(actor="other"))


def test_the_documented_grants_let_the_hub_role_seal_but_not_rewrite(pg_engine: Engine, postgres_url: str) -> None:
    """docs/security.md, "Audit trail": the hub's role inserts and seals; UPDATE of content and DELETE are
    not granted, and the trigger refuses re-sealing a sealed entry."""
    role = f"rxhub_app_{uuid.uuid4().hex[:8]}"
    admin_url = postgres_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f"CREATE ROLE {role}")
        conn.execute(f"GRANT SELECT, INSERT ON audit_log TO {role}")
        conn.execute(f"GRANT UPDATE (seq, prev_hash, hash, key_id) ON audit_log TO {role}")
        conn.execute(f"GRANT USAGE ON SEQUENCE audit_log_id_seq TO {role}")
    try:
        with pg_engine.begin() as conn:
            conn.exec_driver_sql(f"SET LOCAL ROLE {role}")
            audit.record(conn, actor="pharm1", role="pharmacist", action="approve", prescription_id="rx-1")
            audit.record(conn, actor="pharm1", role="pharmacist", action="approve", prescription_id="rx-2")
            assert seal(conn) == 2
        for statement, refusal in (
            ("UPDATE audit_log SET actor = 'x' WHERE seq = 1", "permission denied"),
            ("DELETE FROM audit_log WHERE seq = 1", "permission denied"),
            ("UPDATE audit_log SET hash = NULL WHERE seq = 1", "append-only"),
        ):
            with pytest.raises(DBAPIError, match=refusal), pg_engine.begin() as conn:
                conn.exec_driver_sql(f"SET LOCAL ROLE {role}")
                conn.exec_driver_sql(statement)
        assert AuditTrail(pg_engine).verify().ok
    finally:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f"REVOKE ALL ON audit_log FROM {role}")
            conn.execute(f"REVOKE ALL ON SEQUENCE audit_log_id_seq FROM {role}")
            conn.execute(f"DROP ROLE {role}")


def test_doors_off_loopback_refuse_to_start_without_an_audit_key() -> None:
    from hub.security.posture import InsecureConfiguration, check_audit_key

    with pytest.raises(InsecureConfiguration, match="RXHUB_AUDIT_KEY"):
        check_audit_key(False, ("127.0.0.1", "0.0.0.0"))
    check_audit_key(True, ("0.0.0.0", "0.0.0.0"))
    check_audit_key(False, ("127.0.0.1", "::1"))  # a laptop: plain hashes and a warning


def test_the_hub_writes_signed_anchors_on_its_schedule(engine: Engine, tmp_path: Path) -> None:
    import threading
    from functools import partial

    from tests.support.waiting import eventually

    _write(engine, 2)
    anchors, stop = tmp_path / "anchors.jsonl", threading.Event()
    writer = audit_anchors.AnchorWriter(partial(head_anchor, engine), str(anchors), interval_s=0.05)
    thread = threading.Thread(target=writer.run, args=(stop,), daemon=True)
    thread.start()
    try:
        written = eventually(
            lambda: (found := audit_anchors.read(anchors) if anchors.exists() else [])[1:] and found,
            "two anchors written",
        )
    finally:
        stop.set()
        thread.join(5)
    keys = AuditKeys([KEY])
    assert all(not isinstance(a, str) and audit_anchors.signature_holds(a, keys) and a.seq == 2 for a in written)
