"""Retention on both databases: published outbox bodies and idempotency records past the period go, in
short batches; unpublished rows, recent rows and each order's message trail stay."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, func, insert, select

from hub.persistence.audit import AuditTrail
from hub.persistence.inbound import InboundStore
from hub.persistence.maintenance import forget_processed, mark
from hub.persistence.outbox_store import OutboxStore
from hub.persistence.tables import command_outcomes, inbound_messages, outbox, processed_messages
from hub.security.retention import purge_expired

NOW = datetime.now(UTC)
OLD = NOW - timedelta(days=40)


def _outbox(engine: Engine, name: str, count: int, published_at: datetime | None, *, same_time: bool = False) -> None:
    """``count`` rows published at ``published_at`` (one second apart unless ``same_time``), or unpublished."""
    rows = [
        dict(
            id=f"{name}-{n}",
            created_at=OLD,
            target="payer",
            routing_key="b1",
            message_type="claim",
            content_type="application/octet-stream",
            correlation_id=name,
            body=b"PATIENT DEMOGRAPHICS",
            headers={"reply_to": "x"},
            published_at=published_at and published_at + timedelta(seconds=0 if same_time else n),
        )
        for n in range(count)
    ]
    with engine.begin() as conn:
        conn.execute(insert(outbox), rows)


def _bodies(engine: Engine, name: str) -> list[bytes]:
    with engine.connect() as conn:
        return [
            bytes(b)
            for b in conn.scalars(select(outbox.c.body).where(outbox.c.correlation_id == name).order_by(outbox.c.seq))
        ]


def test_published_outbox_bodies_past_the_period_are_emptied_and_their_rows_kept(engine: Engine) -> None:
    _outbox(engine, "old", 7, OLD)
    _outbox(engine, "tied", 5, OLD, same_time=True)  # rows sharing a publication time
    _outbox(engine, "recent", 3, NOW - timedelta(days=1))
    _outbox(engine, "unpublished", 2, None)
    assert OutboxStore(engine).purge_bodies(NOW - timedelta(days=30), batch=3) == 12
    assert _bodies(engine, "old") == [b""] * 7 and _bodies(engine, "tied") == [b""] * 5
    assert _bodies(engine, "recent") == [b"PATIENT DEMOGRAPHICS"] * 3
    assert _bodies(engine, "unpublished") == [b"PATIENT DEMOGRAPHICS"] * 2
    with engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(outbox)) == 17, "the message trail stays"
        headers = conn.scalars(select(outbox.c.headers).where(outbox.c.correlation_id == "old")).all()
    assert headers == [{}] * 7
    assert OutboxStore(engine).purge_bodies(NOW - timedelta(days=30), batch=3) == 0, "nothing purged twice"


def test_idempotency_records_past_the_period_are_deleted(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(
            insert(processed_messages),
            [dict(consumer=f"step-{n % 3}", message_id=f"old-{n}", processed_at=OLD) for n in range(11)]
            + [dict(consumer="step-0", message_id="new", processed_at=NOW)],
        )
    assert forget_processed(engine, NOW - timedelta(days=30), batch=4) == 11
    with engine.connect() as conn:
        assert conn.scalars(select(processed_messages.c.message_id)).all() == ["new"]


def test_the_purge_covers_all_three_and_is_audited(engine: Engine) -> None:
    _outbox(engine, "old", 2, OLD)
    with engine.begin() as conn:
        conn.execute(insert(processed_messages), [dict(consumer="intake", message_id="m", processed_at=OLD)])
    purged = purge_expired(engine, days=30, actor="night-ops")
    assert (purged.raw_bodies, purged.outbox_bodies, purged.idempotency_records) == (0, 2, 1)
    entry = next(e for e in AuditTrail(engine).query() if e.action == "retention purge")
    assert entry.actor == "night-ops" and entry.detail["outbox_bodies"] == 2 and entry.detail["days"] == 30


def test_an_outbox_purge_reads_from_a_day_before_where_the_last_one_stopped(engine: Engine) -> None:
    """Each run would otherwise read the keys of every row published before its cutoff: all the rows earlier
    runs emptied, which the table keeps. Rows the first run left behind far before its cutoff cannot happen
    (a row is published after it is written); the test puts some there to see where the second run reads."""
    store = OutboxStore(engine)
    _outbox(engine, "first", 2, OLD)
    assert store.purge_bodies(NOW - timedelta(days=30)) == 2
    assert mark(engine, "outbox_purged_before") == (NOW - timedelta(days=30)).date()
    _outbox(engine, "behind", 2, OLD - timedelta(days=2))  # before the mark, less its day of margin
    _outbox(engine, "margin", 2, NOW - timedelta(days=30, hours=20))  # within the day of margin
    _outbox(engine, "since", 2, NOW - timedelta(days=25))
    assert store.purge_bodies(NOW - timedelta(days=20)) == 4
    assert _bodies(engine, "margin") == [b""] * 2 and _bodies(engine, "since") == [b""] * 2
    assert _bodies(engine, "behind") == [b"PATIENT DEMOGRAPHICS"] * 2, "not read again"
    store.purge_bodies(NOW - timedelta(days=90))  # a longer period set later: the mark stays where it was
    assert mark(engine, "outbox_purged_before") == (NOW - timedelta(days=20)).date()


def test_raw_bodies_past_the_period_are_dropped_in_batches(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(
            insert(inbound_messages),
            [
                dict(
                    id=f"m-{n}",
                    door="hl7",
                    sender="EHR",
                    control_id=f"C{n}",
                    received_at=OLD if n < 7 else NOW,
                    outcome="AA",
                    raw=b"MSH|PATIENT",
                    command_ids=[],
                )
                for n in range(10)
            ],
        )
    assert InboundStore(engine).purge_raw(NOW - timedelta(days=30), batch=3) == 7
    with engine.connect() as conn:
        kept = dict(conn.execute(select(inbound_messages.c.id, inbound_messages.c.raw)).all())
    assert len(kept) == 10 and sorted(k for k, raw in kept.items() if raw is not None) == ["m-7", "m-8", "m-9"]


def test_staff_command_outcomes_past_the_period_are_deleted(engine: Engine) -> None:
    rows = [
        dict(message_id=f"old-{n}", command="RecordVerification", actor="u", outcome="applied", at=OLD)
        for n in range(5)
    ] + [dict(message_id="new", command="SelectProduct", actor="u", outcome="pending", at=NOW)]
    with engine.begin() as conn:
        conn.execute(insert(command_outcomes), rows)
    purged = purge_expired(engine, days=30)
    with engine.connect() as conn:
        left = conn.scalars(select(command_outcomes.c.message_id)).all()
    assert purged.command_outcomes == 5 and left == ["new"]
