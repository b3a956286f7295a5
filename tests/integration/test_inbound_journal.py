"""The doors' dedupe journal: batched lookups and records, visible while queued, safe under races and outages."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import Engine, func, select, text

from hub.errors import DatabaseUnavailable
from hub.persistence.audit import AuditTrail
from hub.persistence.database import create_schema, make_engine
from hub.persistence.inbound import InboundStore
from hub.persistence.inbound_journal import InboundJournal
from hub.persistence.tables import inbound_messages
from hub.service.inbound_entry import InboundEntry


def _record(journal: InboundJournal, n: int, *, sender: str = "EHR|NORTH", answer: bytes = b"MSA|AA") -> None:
    journal.record_later(
        InboundEntry(
            door="hl7",
            sender=sender,
            control_id=f"C{n}",
            message_type="RDE^O11",
            outcome="AA",
            raw=f"MSH|{n}".encode(),
            answer=answer,
            command_ids=[f"cmd-{n}"],
        )
    )


def _record_all(engine: Engine, count: int) -> None:
    """Queue ``count`` records on a fresh journal, wait until they are written, close it."""
    journal = InboundJournal(engine)

    async def scenario() -> None:
        for n in range(count):
            _record(journal, n)
        await journal.drain()

    asyncio.run(scenario())
    journal.close()


def _count(engine: Engine, table: object) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())  # type: ignore[arg-type]


def test_many_records_are_written_with_one_audit_entry_each(engine: Engine) -> None:
    _record_all(engine, 300)
    assert _count(engine, inbound_messages) == 300
    entries = [e for e in AuditTrail(engine).query(limit=1000) if e.action == "receive message"]
    assert len(entries) == 300 and {e.actor for e in entries} == {"EHR|NORTH"}
    assert AuditTrail(engine).verify().ok


def test_a_queued_record_answers_a_lookup_before_it_is_written(engine: Engine) -> None:
    journal = InboundJournal(engine)

    async def scenario() -> tuple[bytes | None, bytes | None, bool]:
        _record(journal, 1, answer=b"first answer")
        queued = await journal.find("hl7", "EHR|NORTH", "C1")  # may or may not be written yet: same answer
        await journal.drain()
        written = await journal.find("hl7", "EHR|NORTH", "C1")
        unknown = await journal.find("hl7", "EHR|NORTH", "C2")
        return queued.answer if queued else None, written.answer if written else None, unknown is None

    assert asyncio.run(scenario()) == (b"first answer", b"first answer", True)
    journal.close()


def test_concurrent_lookups_each_get_their_own_answer(engine: Engine) -> None:
    journal = InboundJournal(engine)

    async def scenario() -> list[bool]:
        for n in range(0, 100, 2):
            _record(journal, n)
        await journal.drain()
        found = await asyncio.gather(*(journal.find("hl7", "EHR|NORTH", f"C{n}") for n in range(100)))
        return [f is not None for f in found]

    assert asyncio.run(scenario()) == [n % 2 == 0 for n in range(100)]
    journal.close()


def test_a_key_another_process_recorded_first_loses_quietly_and_the_rest_of_the_batch_is_kept(engine: Engine) -> None:
    InboundStore(engine).record(
        InboundEntry(
            door="hl7",
            sender="EHR|NORTH",
            control_id="C5",
            message_type="RDE^O11",
            outcome="AA",
            raw=b"other",
            answer=b"theirs",
            command_ids=[],
        )
    )
    _record_all(engine, 10)
    assert _count(engine, inbound_messages) == 10
    with engine.connect() as conn:
        answer = conn.execute(select(inbound_messages.c.answer).where(inbound_messages.c.control_id == "C5")).scalar()
    assert answer == b"theirs"


def test_an_unreachable_database_fails_the_request_not_the_journal() -> None:
    broken = make_engine("postgresql+psycopg://postgres@127.0.0.1:1/nowhere?connect_timeout=1")
    journal = InboundJournal(broken)

    async def scenario() -> None:
        with pytest.raises(DatabaseUnavailable):
            await journal.find("hl7", "EHR|NORTH", "C1")
        future = journal.record_later(InboundEntry("hl7", "EHR|NORTH", "C1", "RDE^O11", b"x", "AA", b"a", []))
        await journal.drain()
        assert isinstance(future.exception(), DatabaseUnavailable)
        # the failed record is not served from memory, and the lookup lane still answers (with the outage)
        with pytest.raises(DatabaseUnavailable):
            await asyncio.wait_for(journal.find("hl7", "EHR|NORTH", "C1"), 20)

    asyncio.run(scenario())
    journal.close()
    broken.dispose()


def test_a_connection_the_database_dropped_is_replaced_without_failing_the_request(postgres_url: str) -> None:
    engine = make_engine(postgres_url)
    create_schema(engine)
    journal = InboundJournal(engine)
    database = postgres_url.rsplit("/", 1)[1]

    async def scenario() -> tuple[bool, bool]:
        _record(journal, 1)
        await journal.drain()
        before = await journal.find("hl7", "EHR|NORTH", "C1") is not None
        with engine.begin() as conn:  # as a database restart would: every other session of this database ends
            conn.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = :db AND pid <> pg_backend_pid()"
                ),
                {"db": database},
            )
        _record(journal, 2)
        await journal.drain()
        after = await journal.find("hl7", "EHR|NORTH", "C2") is not None
        return before, after

    try:
        assert asyncio.run(scenario()) == (True, True)
        journal.close()
        assert _count(engine, inbound_messages) == 2
    finally:
        engine.dispose()


def test_a_batch_tried_again_keeps_what_its_first_try_settled(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    """The lane tries a batch again on a fresh connection when its held one fails. A claimed message's answer
    filled in on the first try is settled; the second try must write the rest, not settle it twice (which
    failed the whole batch, the rest's answers lost for resends)."""
    from sqlalchemy.exc import OperationalError

    from hub.persistence import inbound_journal

    journal = InboundJournal(engine)
    entry = InboundEntry(
        door="hl7",
        sender="EHR|NORTH",
        control_id="CLAIMED",
        message_type="RDE^O11",
        outcome="AA",
        raw=b"MSH|c",
        record_id="8e7c1d0a-claimed",  # the doors name the row they claim, so the answer fills in that row
    )
    real = inbound_journal.audit.record_many
    calls = {"n": 0}

    def second_write_fails(conn: object, entries: object) -> None:
        calls["n"] += 1
        if calls["n"] == 2:  # after the claimed row's answer, the plain record's insert
            raise OperationalError("INSERT", {}, Exception("server closed the connection (test)"))
        real(conn, entries)  # type: ignore[arg-type]

    async def scenario() -> str:
        _record(journal, 0)
        await journal.drain()  # the records' lane now holds a connection: a failure is tried again
        assert await journal.claim(entry) is None
        monkeypatch.setattr(inbound_journal.audit, "record_many", second_write_fails)
        filled = journal.record_later(entry.answered("AA", b"MSA|AA|CLAIMED", ["cmd-c"]))
        _record(journal, 1)  # queued with it: one batch
        await journal.drain()
        return await asyncio.wrap_future(filled)

    try:
        record_id = asyncio.run(scenario())
    finally:
        journal.close()
    store = InboundStore(engine)
    assert record_id and store.find("hl7", "EHR|NORTH", "CLAIMED").answer == b"MSA|AA|CLAIMED"
    assert store.find("hl7", "EHR|NORTH", "C1") is not None, "the rest of the batch written on the second try"
