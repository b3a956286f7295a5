"""The audit trail is a hash chain: sealed just after commit, well-defined under concurrent writers, tamper-evident.

``verify`` only reads, so the tests seal (``trail.seal()``) before verifying what they just wrote; they edit
sealed rows as the table's owner would, past the PostgreSQL trigger (``owner_edits``).
"""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import Engine, select, text, update

from hub.persistence import audit
from hub.persistence.audit import AuditTrail
from hub.persistence.chain_sealer import ChainSealer, sealer_for
from hub.persistence.database import create_schema, make_engine
from hub.persistence.tables import audit_log
from tests.support.audit_tamper import owner_edits


@pytest.fixture
def engine(database_url: str) -> Engine:
    engine = make_engine(database_url)
    create_schema(engine)
    yield engine
    engine.dispose()


def test_entries_are_chained_in_commit_order_and_verify(engine: Engine) -> None:
    trail = AuditTrail(engine)
    for n in range(5):
        trail.record(actor=f"user{n}", role="technician", action="read prescription", prescription_id=f"rx-{n}")
    trail.seal()
    report = trail.verify()
    assert report.ok, report.problems
    assert report.checked == 5 and report.head_seq == 5
    assert [e.seq for e in trail.query()] == [1, 2, 3, 4, 5]


def test_the_sealer_chains_committed_entries_without_being_asked(engine: Engine) -> None:
    with engine.begin() as conn:
        audit.record(conn, actor="a", role="admin", action="one")
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with engine.connect() as conn:
            if conn.execute(select(audit_log.c.hash).where(audit_log.c.hash.is_not(None))).first():
                break
        time.sleep(0.02)
    with engine.connect() as conn:
        rows = conn.execute(select(audit_log.c.seq, audit_log.c.hash)).all()
    assert [r.seq for r in rows] == [1] and rows[0].hash


def test_a_sweep_only_sealer_is_not_woken_by_commits_but_still_chains_them(engine: Engine) -> None:
    """``rxhub run``'s doors leave the chain to the workers' woken sealers; their own sealer still sweeps, so an
    entry never stays unsealed when no other process seals."""
    held = ChainSealer(engine)
    held._stopping = True  # no thread to take the wake-up: what poke does with it stays visible
    held.sweep_only = True
    held.poke()
    assert not held._wake.is_set(), "a commit must not wake a sweep-only sealer"
    held.sweep_only = False
    held.poke()
    assert held._wake.is_set()
    sealer_for(engine).sweep_only = True
    with engine.begin() as conn:
        audit.record(conn, actor="door", role="feed", action="hl7 received")
    sealed, deadline = False, time.monotonic() + 10
    while not sealed and time.monotonic() < deadline:
        time.sleep(0.05)
        with engine.connect() as conn:
            sealed = conn.execute(select(audit_log.c.hash).where(audit_log.c.hash.is_not(None))).first() is not None
    assert sealed, "the sweep chained the entry without being woken"
    report = AuditTrail(engine).verify()
    assert report.ok and report.checked == 1 and report.head_seq == 1


def test_disposing_the_engine_seals_what_is_left(database_url: str) -> None:
    engine = make_engine(database_url)
    create_schema(engine)
    with engine.begin() as conn:
        for n in range(3):
            audit.record(conn, actor=f"u{n}", role="admin", action="one")
    engine.dispose()
    with engine.connect() as conn:
        assert conn.execute(select(audit_log.c.seq).where(audit_log.c.hash.is_(None))).first() is None
    engine.dispose()


def test_a_rolled_back_transaction_leaves_no_entry_and_no_gap(engine: Engine) -> None:
    trail = AuditTrail(engine)
    trail.record(actor="a", role="admin", action="one")
    with pytest.raises(RuntimeError), engine.begin() as conn:
        audit.record(conn, actor="b", role="admin", action="lost")
        raise RuntimeError("handler failed")
    trail.record(actor="c", role="admin", action="two")
    assert [(e.actor, e.seq) for e in trail.query()] == [("a", 1), ("c", 2)]  # query seals first
    assert trail.verify().ok


def test_concurrent_writers_make_one_unbroken_chain(engine: Engine) -> None:
    trail = AuditTrail(engine)

    def write(worker: int) -> None:
        for n in range(15):
            with engine.begin() as conn:
                audit.record(conn, actor=f"w{worker}", role="system", action="step", detail={"n": n})
                audit.record(conn, actor=f"w{worker}", role="system", action="step-2", detail={"n": n})

    threads = [threading.Thread(target=write, args=(w,)) for w in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    trail.seal()
    report = trail.verify()
    assert report.ok, report.problems
    assert report.checked == 6 * 15 * 2


@pytest.mark.parametrize(
    "change",
    [
        {"actor": "someone.else"},
        {"outcome": "ok"},
        {"detail": '{"state": "ready"}'},
    ],
)
def test_verification_detects_an_altered_record(engine: Engine, change: dict[str, str]) -> None:
    trail = AuditTrail(engine)
    for n in range(4):
        trail.record(
            actor=f"user{n}",
            role="pharmacist",
            action="verify",
            outcome="forbidden",
            detail={"state": "data_verification"},
        )
    trail.seal()
    assert trail.verify().ok  # sealed: from here on an edit shows
    with owner_edits(engine) as conn:
        conn.execute(update(audit_log).where(audit_log.c.seq == 2).values(**change))
    report = trail.verify()
    assert not report.ok
    assert [(p.seq, p.reason) for p in report.problems] == [(2, "content does not match its hash")]


def test_verification_detects_a_deleted_record_and_a_cut_off_end(engine: Engine) -> None:
    trail = AuditTrail(engine)
    for n in range(4):
        trail.record(actor=f"user{n}", role="admin", action="replay")
    trail.seal()
    anchor = trail.verify().head_hash
    with owner_edits(engine) as conn:
        conn.execute(text("DELETE FROM audit_log WHERE seq = 2"))
    assert {p.seq for p in trail.verify().problems} == {3}
    with owner_edits(engine) as conn:
        conn.execute(text("DELETE FROM audit_log WHERE seq >= 3"))
    assert trail.verify().ok  # a clean cut is only visible against an anchor noted before
    assert not trail.verify(anchor=anchor).ok


def test_a_rehashed_forgery_still_breaks_the_next_link(engine: Engine) -> None:
    from hub.security.audit_chain import entry_hash

    trail = AuditTrail(engine)
    for n in range(3):
        trail.record(actor=f"user{n}", role="admin", action="read raw message")
    trail.seal()
    assert trail.verify().ok
    with owner_edits(engine) as conn:
        row = conn.execute(audit_log.select().where(audit_log.c.seq == 2)).mappings().one()
        forged = {**row, "actor": "nobody"}
        conn.execute(
            update(audit_log)
            .where(audit_log.c.seq == 2)
            .values(actor="nobody", hash=entry_hash(forged, row["prev_hash"]))
        )
    assert [(p.seq, p.reason) for p in trail.verify().problems] == [(3, "does not link to the entry before")]


def test_entries_recorded_from_the_event_loop_are_committed_when_the_call_returns(engine: Engine) -> None:
    """The doors' batched audit writes (an approval, a FHIR read): many requests at once, each entry written
    and chained, each caller answered only once its entry is committed."""
    import asyncio

    trail = AuditTrail(engine)

    async def requests() -> None:
        await asyncio.gather(
            *(
                trail.record_soon(
                    actor=f"pharm{n}", role="pharmacist", action="request X", prescription_id=f"rx-{n}", detail={"n": n}
                )
                for n in range(40)
            )
        )
        with engine.connect() as conn:  # another connection sees every entry at once
            assert conn.execute(text("SELECT count(*) FROM audit_log")).scalar() == 40

    try:
        asyncio.run(requests())
    finally:
        trail.close()
    entries = trail.query()
    assert sorted(e.prescription_id or "" for e in entries) == sorted(f"rx-{n}" for n in range(40))
    assert {e.detail["n"] for e in entries} == set(range(40))
    trail.seal()
    assert trail.verify().ok


def test_an_entry_that_cannot_be_written_fails_its_request_and_the_writer_lives_on(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    import asyncio

    trail = AuditTrail(engine)
    real_append = audit.append
    broken = {"once": True}

    def flaky(conn, rows):  # type: ignore[no-untyped-def]
        if broken.pop("once", False):
            raise RuntimeError("disk on fire")
        real_append(conn, rows)

    monkeypatch.setattr(audit, "append", flaky)
    try:
        with pytest.raises(RuntimeError, match="disk on fire"):
            asyncio.run(trail.record_soon(actor="a", role="admin", action="first"))
        asyncio.run(trail.record_soon(actor="a", role="admin", action="second"))
    finally:
        trail.close()
    assert [e.action for e in trail.query()] == ["second"]


def test_a_database_error_reaches_the_request_as_database_unavailable() -> None:
    import asyncio

    from hub.errors import DatabaseUnavailable

    nowhere = make_engine("postgresql+psycopg://postgres@127.0.0.1:5432/rxhub_no_such_database")
    trail = AuditTrail(nowhere)
    try:
        with pytest.raises(DatabaseUnavailable, match="audit trail unavailable"):
            asyncio.run(trail.record_soon(actor="a", role="admin", action="x"))
    finally:
        trail.close()
        nowhere.dispose()
