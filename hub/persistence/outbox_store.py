"""Reading and marking the transactional outbox, for the relay."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any, TypeVar

from sqlalchemy import ARRAY, Connection, Engine, Row, String, any_, bindparam, func, select, update
from sqlalchemy.exc import InterfaceError, OperationalError

from hub.errors import DatabaseUnavailable
from hub.persistence.claims import drop_superseded
from hub.persistence.database import read_connection
from hub.persistence.maintenance import in_batches, mark, set_mark
from hub.persistence.tables import outbox

T = TypeVar("T")


def _unavailable(exc: OperationalError | InterfaceError) -> DatabaseUnavailable:
    return DatabaseUnavailable(f"database unavailable: {type(exc.orig).__name__}")


def _translated(fn: Callable[..., T]) -> Callable[..., T]:
    """Database trouble reaches the relay as DatabaseUnavailable: a warning and a backoff, not a traceback
    per poll while the database fails over."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> T:
        try:
            return fn(*args, **kwargs)
        except (OperationalError, InterfaceError) as exc:
            raise _unavailable(exc) from exc

    return wrapper


@dataclass(frozen=True)
class OutboxRow:
    """One message waiting to be published."""

    id: str
    target: str
    routing_key: str
    message_type: str
    content_type: str
    correlation_id: str | None
    body: bytes
    headers: dict[str, Any]


def outbox_row(r: Any) -> OutboxRow:
    """An outbox row from its column values (a row read back, or the values a unit of work just inserted)."""
    return OutboxRow(
        r["id"],
        r["target"],
        r["routing_key"],
        r["message_type"],
        r["content_type"],
        r["correlation_id"],
        r["body"],
        dict(r["headers"] or {}),
    )


#: ``counters`` row: the day of the last outbox purge's cutoff (hub.persistence.maintenance.mark)
_PURGE_MARK = "outbox_purged_before"
#: how long a SQLite relay holds the rows it is publishing before another may take them
CLAIM_LEASE = timedelta(seconds=30)

# built once: the relay marks a batch every few milliseconds, and ``in_(list)`` coerces every id each time;
# PostgreSQL takes the ids as one array parameter
_MARK_SENT = {
    "postgresql": update(outbox)
    .where(outbox.c.id == any_(bindparam("ids", type_=ARRAY(String))))
    .values(published_at=bindparam("now")),
    "sqlite": update(outbox)
    .where(outbox.c.id.in_(bindparam("ids", expanding=True)))
    .values(published_at=bindparam("now")),
}


class OutboxStore:
    """The relay's view of the outbox table."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    @_translated
    def superseded_claims(self, rows: Sequence[OutboxRow]) -> set[str]:
        """Ids of payer rows whose claim a later transmission of the same fill superseded (noted in the ledger)."""
        return drop_superseded(self._engine, [(r.id, r.correlation_id) for r in rows if r.target == "payer"])

    @contextmanager
    def claim(
        self, limit: int = 200, *, created_before: datetime | None = None
    ) -> Iterator[tuple[list[OutboxRow], Callable[[list[str], dict[str, str]], None]]]:
        """Rows to publish, and a function recording which were published and which were refused for good.

        ``created_before``: only rows older than this (the relays of other processes publish their own fresh
        rows from memory; see hub.messaging.outbox_relay).

        On PostgreSQL the rows are locked (``FOR UPDATE SKIP LOCKED``) until recorded, on the same connection,
        so relays in several processes never publish the same row twice. SQLite has no row locks, and holding
        its writer lock while publishing would stall every worker, so there the batch is claimed for a lease.
        """
        try:
            with self._claimed(limit, created_before) as claimed:
                yield claimed
        except (OperationalError, InterfaceError) as exc:
            raise _unavailable(exc) from exc

    @contextmanager
    def _claimed(
        self, limit: int, created_before: datetime | None
    ) -> Iterator[tuple[list[OutboxRow], Callable[[list[str], dict[str, str]], None]]]:
        if self._engine.dialect.name != "postgresql":
            rows = self._claim_apart(limit, created_before)

            def record_apart(published: list[str], failed: dict[str, str]) -> None:
                for row_id, error in failed.items():
                    self.mark_failed(row_id, error)
                self.mark_published(published)
                unfinished = [r.id for r in rows if r.id not in published and r.id not in failed]
                if unfinished:  # give them back at once rather than when the claim runs out
                    with self._engine.begin() as conn:
                        conn.execute(update(outbox).where(outbox.c.id.in_(unfinished)).values(claimed_until=None))

            yield rows, record_apart
            return
        query = select(outbox).where(outbox.c.published_at.is_(None))
        if created_before is not None:
            query = query.where(outbox.c.created_at < created_before)
        query = query.order_by(outbox.c.seq).limit(limit).with_for_update(skip_locked=True)
        with self._engine.begin() as conn:
            rows = [outbox_row(r) for r in conn.execute(query).mappings().all()]

            def record(published: list[str], failed: dict[str, str]) -> None:
                now = datetime.now(UTC)
                if published:
                    conn.execute(_MARK_SENT["postgresql"], {"ids": published, "now": now})
                for row_id, error in failed.items():
                    conn.execute(
                        update(outbox).where(outbox.c.id == row_id).values(published_at=now, error=error[:1000])
                    )

            yield rows, record

    def _claim_apart(self, limit: int, created_before: datetime | None) -> list[OutboxRow]:
        """SQLite: mark the batch as this relay's for a while (the writer lock makes the claim atomic), so a
        relay in another process skips it; a relay that dies leaves rows that are free again after the lease."""
        now = datetime.now(UTC)
        free = outbox.c.claimed_until.is_(None) | (outbox.c.claimed_until < now)
        query = select(outbox).where(outbox.c.published_at.is_(None), free)
        if created_before is not None:
            query = query.where(outbox.c.created_at < created_before)
        query = query.order_by(outbox.c.seq).limit(limit)
        with read_connection(self._engine) as conn:  # the common idle poll must not take the writer lock
            if conn.execute(query.with_only_columns(outbox.c.seq).limit(1)).first() is None:
                return []
        with self._engine.begin() as conn:
            rows = [outbox_row(r) for r in conn.execute(query).mappings().all()]
            if rows:
                conn.execute(
                    update(outbox).where(outbox.c.id.in_([r.id for r in rows])).values(claimed_until=now + CLAIM_LEASE)
                )
        return rows

    @_translated
    def pending(self, limit: int = 200) -> list[OutboxRow]:
        """Unpublished rows, oldest first, so events about one order leave in the order they happened."""
        query = select(outbox).where(outbox.c.published_at.is_(None)).order_by(outbox.c.seq).limit(limit)
        with read_connection(self._engine) as conn:
            rows = conn.execute(query).mappings().all()
        return [outbox_row(r) for r in rows]

    @_translated
    def mark_published(self, ids: list[str]) -> None:
        """Mark rows sent; a crash before this only causes a republish with the same message id."""
        if not ids:
            return
        with self._engine.begin() as conn:
            conn.execute(_MARK_SENT[conn.dialect.name], {"ids": ids, "now": datetime.now(UTC)})

    @_translated
    def mark_failed(self, row_id: str, error: str) -> None:
        """Park a row the broker refused for good, keeping the reason for operators."""
        with self._engine.begin() as conn:
            conn.execute(
                update(outbox).where(outbox.c.id == row_id).values(published_at=datetime.now(UTC), error=error[:1000])
            )

    def purge_bodies(self, published_before: datetime, batch: int = 5000) -> int:
        """Empty the bodies and headers of rows published before the cutoff; returns how many.

        Payer requests carry the patient's demographics, so the outbox is under the same retention as raw
        messages. The rows stay: they are each order's message trail (type, target, times, error). A run
        records the day of its cutoff (``counters`` ``outbox_purged_before``) and the next reads the keys
        from a day before it, not those of every row an earlier run emptied (the table keeps them all).
        """
        c = outbox.c

        def empty(conn: Connection, keys: Sequence[Row[Any]]) -> int:
            return int(
                conn.execute(
                    update(outbox).where(c.seq.in_([k.seq for k in keys])).values(body=b"", headers={})
                ).rowcount
            )

        keys = select(c.seq).where(c.published_at < published_before, func.length(c.body) > 0)
        done = mark(self._engine, _PURGE_MARK)
        if done is not None:  # a day's margin: a relay on a host whose clock runs behind
            keys = keys.where(c.published_at >= datetime.combine(done - timedelta(days=1), time(), UTC))
        emptied = in_batches(self._engine, keys, empty, batch)
        set_mark(self._engine, _PURGE_MARK, published_before.astimezone(UTC).date())
        return emptied

    @_translated
    def backlog(self) -> int:
        """How many rows wait to be published (a health and metrics figure)."""
        with read_connection(self._engine) as conn:
            return int(
                conn.execute(
                    select(func.count()).select_from(outbox).where(outbox.c.published_at.is_(None))
                ).scalar_one()
            )
