"""The refused-message log on both databases: found beside accepted messages, audited, bounded by sender budget,
row cap and retention; bodies only sealed and cut short; and a value the database refuses is bad content."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, func, insert, select, update

from hub.errors import MessageContentError
from hub.persistence.audit import AuditTrail
from hub.persistence.database import read_connection
from hub.persistence.inbound import InboundStore
from hub.persistence.message_log import MessageLog
from hub.persistence.refused_messages import RAW_MAX_BYTES, RefusedMessages, purge_refused
from hub.persistence.tables import counters, refused_messages
from hub.persistence.unit_of_work import units_of_work
from hub.security import data_key
from hub.security.retention import purge_expired
from hub.service.inbound_entry import InboundEntry
from hub.service.ports import RefusedMessage


def _refusal(
    control_id: str,
    *,
    actor: str = "feed:north",
    raw: bytes = b"MSH|...",
    code: str = "AE",
    claimed: str | None = "EHR|NORTH",
) -> RefusedMessage:
    return RefusedMessage(
        door="hl7",
        actor=actor,
        claimed_sender=claimed,
        control_id=control_id,
        message_type="RDE^O11",
        answer_code=code,
        outcome="error" if code == "AE" else "refused",
        reason="PID-5.1 holds a NUL (U+0000), a character the pharmacy cannot store",
        answer=b"MSH|^~\\&|RXHUB\rMSA|AE|" + control_id.encode(),
        raw=raw,
        budget_key=actor,
    )


@pytest.fixture
def log(engine: Engine) -> Iterator[RefusedMessages]:
    refusals = RefusedMessages(engine, per_sender_per_minute=1000, max_rows=1000)
    yield refusals
    refusals.close()


def _search(engine: Engine, **filters: object) -> list[dict[str, object]]:
    with read_connection(engine) as conn:
        return MessageLog(conn).search(**filters)  # type: ignore[arg-type]


def test_a_refusal_is_found_by_control_id_beside_the_accepted_message_and_audited(
    engine: Engine, log: RefusedMessages
) -> None:
    log.record_later(_refusal("C-1")).result(10)
    InboundStore(engine).record(
        InboundEntry(
            door="hl7",
            sender="feed:north>EHR|NORTH",
            control_id="C-1",
            message_type="RDE^O11",
            outcome="AA",
            raw=b"MSH|fixed",
            answer=b"MSA|AA",
            command_ids=["x"],
        )
    )
    found = _search(engine, control_id="C-1")
    assert [(r["outcome"], r["refused"]) for r in found] == [("AA", False), ("AE", True)]
    refused = found[1]
    assert refused["sender"] == "feed:north>EHR|NORTH" and "U+0000" in str(refused["reason"])
    assert _search(engine, control_id="C-1", ids=[]) == []  # the prescriptions' messages are accepted ones
    with read_connection(engine) as conn:
        story = MessageLog(conn).story(str(refused["id"]), with_raw=True)
    assert story is not None and story["answer"].endswith("MSA|AE|C-1") and story["raw"] == ""
    assert (story["raw_size"], story["commands"], story["prescriptions"]) == (7, [], [])
    receipts = [e for e in AuditTrail(engine).query(actor="feed:north") if e.action == "receive message"]
    assert sorted(e.outcome for e in receipts) == ["AA", "error"]  # the accepted one's, and the refusal's
    (entry,) = [e for e in receipts if e.outcome == "error"]
    assert entry.role == "feed"
    assert entry.detail | {"refused_id": None} == {
        "door": "hl7",
        "control_id": "C-1",
        "message_type": "RDE^O11",
        "answer": "AE",
        "claimed_sender": "EHR|NORTH",
        "reason": "PID-5.1 holds a NUL (U+0000), a character the pharmacy cannot store",
        "refused_id": None,
    }
    assert entry.detail["refused_id"] == refused["id"]


def test_text_no_database_holds_is_recorded_replaced_and_a_search_for_it_finds_nothing(
    engine: Engine, log: RefusedMessages
) -> None:
    log.record_later(_refusal("C-\x00-2", actor="address:127.0.0.1", claimed="EH\x00R|X")).result(10)
    (row,) = _search(engine, control_id="C-\ufffd-2")
    assert row["sender"] == "address:127.0.0.1>EH\ufffdR|X"
    assert _search(engine, control_id="C-\x00-2") == []


def test_bodies_are_kept_only_sealed_and_at_most_their_head(engine: Engine, log: RefusedMessages) -> None:
    log.record_later(_refusal("CLEAR")).result(10)
    data_key.install(data_key.new_key())
    try:
        log.record_later(_refusal("SEALED", raw=b"X" * (RAW_MAX_BYTES + 10))).result(10)
        with read_connection(engine) as conn:
            stored = dict(conn.execute(select(refused_messages.c.control_id, refused_messages.c.raw)).all())
            sealed = _search(engine, control_id="SEALED")[0]
            story = MessageLog(conn).story(str(sealed["id"]), with_raw=True)
        assert stored["CLEAR"] is None and stored["SEALED"].startswith(data_key.PREFIX)
        assert story is not None and story["raw"] == "X" * RAW_MAX_BYTES and story["raw_size"] == RAW_MAX_BYTES + 10
    finally:
        data_key.install(None)


def test_a_sender_over_its_budget_is_not_recorded_and_the_next_record_says_so(engine: Engine) -> None:
    log = RefusedMessages(engine, per_sender_per_minute=2, max_rows=1000)
    try:
        for n in range(4):
            log.record_later(_refusal(f"FLOOD-{n}")).result(10)
        log.record_later(_refusal("OTHER", actor="feed:south")).result(10)
    finally:
        log.close()
    assert {r["control_id"] for r in _search(engine)} == {"FLOOD-0", "FLOOD-1", "OTHER"}
    assert len([e for e in AuditTrail(engine).query() if e.action == "receive message"]) == 3


def test_the_oldest_records_go_past_the_row_cap(engine: Engine) -> None:
    log = RefusedMessages(engine, per_sender_per_minute=1000, max_rows=3)
    try:
        for n in range(5):
            log.record_later(_refusal(f"CAP-{n}")).result(10)
    finally:
        log.close()
    assert sorted(str(r["control_id"]) for r in _search(engine)) == ["CAP-2", "CAP-3", "CAP-4"]
    # another process's records count too: the cap is counted afresh near it
    again = RefusedMessages(engine, per_sender_per_minute=1000, max_rows=3)
    try:
        again.record_later(_refusal("CAP-5")).result(10)
    finally:
        again.close()
    assert sorted(str(r["control_id"]) for r in _search(engine)) == ["CAP-3", "CAP-4", "CAP-5"]


def test_retention_deletes_old_refusals_and_keeps_their_audit_entries(engine: Engine, log: RefusedMessages) -> None:
    for name in ("OLD-1", "OLD-2", "NEW"):
        log.record_later(_refusal(name)).result(10)
    with engine.begin() as conn:
        conn.execute(
            update(refused_messages)
            .where(refused_messages.c.control_id.like("OLD-%"))
            .values(received_at=datetime.now(UTC) - timedelta(days=40))
        )
    assert purge_refused(engine, datetime.now(UTC) - timedelta(days=30), batch=1) == 2
    assert [r["control_id"] for r in _search(engine)] == ["NEW"]
    assert purge_expired(engine, days=0).refused_messages == 1
    receipts = [e for e in AuditTrail(engine).query() if e.action == "receive message"]
    assert len(receipts) == 3


def test_a_value_the_database_refuses_is_bad_content_not_an_outage(engine: Engine) -> None:
    """PostgreSQL text cannot hold a NUL (psycopg's DataError): refused at once, never retried; SQLite keeps it,
    which is why the doors and the workers refuse such text before it reaches either (hub.domain.storable)."""

    def store() -> None:
        with units_of_work(engine) as transaction:
            transaction.conn.execute(insert(counters).values(name="n\x00ul", value=1))

    if engine.dialect.name == "postgresql":
        with pytest.raises(MessageContentError, match="cannot store a value of this command: PostgreSQL text"):
            store()
    else:
        store()
        with engine.connect() as conn:
            assert conn.scalar(select(func.count()).select_from(counters).where(counters.c.name == "n\x00ul")) == 1
