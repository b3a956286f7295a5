"""Vacuums the tables whose rows the hub updates as they pass through (PostgreSQL).

Every outbox row is marked published, every audit entry sealed, every prescription moves through its states,
every claim is answered: each update leaves the old row version and its index entries behind until a vacuum
removes them. The hub's busiest polls read exactly those regions (unpublished outbox rows, unsealed audit
entries, unanswered claims, a work queue's state), so until then each poll walks past everything that went
through before it: in a 10-minute run on a database with autovacuum off the PostgreSQL CPU per message kept
growing and the intake queue with it. Autovacuum, where it runs, waits until a fifth of a table is dead.
A vacuum every minute reads the table pages changed since the last (the visibility map skips the rest) and
takes no lock that writers wait on; it scans each index whole when it has entries to remove, and skips
the indexes when the dead rows are under 2% of the table's pages (PostgreSQL 14+), which on a table of
millions of rows leaves a minute's dead index entries for the polls to step over until they add up.
Bounding those polls by key (from the last row they found, with a full look now and then) would make
them independent of vacuuming; that is not done.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, Engine, Row, Select, delete, insert, select, tuple_, update
from sqlalchemy.exc import SQLAlchemyError

from hub.persistence.database import read_connection
from hub.persistence.tables import (
    audit_log,
    claim_transmissions,
    counters,
    outbox,
    prescriptions,
    processed_messages,
)

log = logging.getLogger(__name__)

#: the tables whose rows are updated on the way through, in the order they are vacuumed
CHURNING = tuple(table.name for table in (outbox, audit_log, prescriptions, claim_transmissions))


def vacuum(engine: Engine) -> bool:
    """Vacuum the churning tables now (skipping any another vacuum holds); False on SQLite, which has no
    dead row versions to remove."""
    if engine.dialect.name != "postgresql":
        return False
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql(f"VACUUM (SKIP_LOCKED) {', '.join(CHURNING)}")
    return True


def in_batches(
    engine: Engine, keys: Select[Any], apply: Callable[[Connection, Sequence[Row[Any]]], int], batch: int = 5000
) -> int:
    """``apply`` to the rows ``keys`` selects, ``batch`` at a time, each batch its own short transaction, so
    workers and the relay never wait long; returns the sum of what ``apply`` returned. The keys are read in
    one pass (a server-side cursor on PostgreSQL, a read that never blocks writers on SQLite): selecting the
    next batch afresh would walk again past what the earlier batches removed."""
    done = 0
    with read_connection(engine) as reader:
        for part in reader.execution_options(stream_results=True, yield_per=batch).execute(keys).partitions():
            with engine.begin() as conn:
                done += apply(conn, part)
    return done


def mark(engine: Engine, name: str) -> date | None:
    """The day a periodic job recorded under ``name`` (``set_mark``), None before its first run."""
    with read_connection(engine) as conn:
        found = conn.execute(select(counters.c.value).where(counters.c.name == name)).scalar()
    return date.fromordinal(found) if found is not None else None


def set_mark(engine: Engine, name: str, day: date) -> None:
    """Record ``day`` under ``name``; a mark only moves forward (a run with an earlier day leaves it)."""
    with engine.begin() as conn:
        was = conn.execute(select(counters.c.value).where(counters.c.name == name).with_for_update()).scalar()
        if was is None:
            conn.execute(insert(counters).values(name=name, value=day.toordinal()))
        elif was < day.toordinal():
            conn.execute(update(counters).where(counters.c.name == name).values(value=day.toordinal()))


def forget_processed(engine: Engine, processed_before: datetime, batch: int = 5000) -> int:
    """Delete idempotency records older than the cutoff; returns how many.

    Six rows an order, kept forever, were the hub's largest table. A record guards against a redelivery,
    which comes within minutes (an unacked delivery, a resent HL7 message mapped to the same command ids);
    dead letters replayed later were never applied, so they need none.
    """
    c = processed_messages.c

    def forget(conn: Connection, keys: Sequence[Row[Any]]) -> int:
        conn.execute(delete(processed_messages).where(tuple_(c.consumer, c.message_id).in_([tuple(k) for k in keys])))
        return len(keys)

    return in_batches(engine, select(c.consumer, c.message_id).where(c.processed_at < processed_before), forget, batch)


class Vacuumer:
    """A thread vacuuming the churning tables every ``interval_s`` until stopped."""

    def __init__(self, engine: Engine, interval_s: float) -> None:
        self._engine = engine
        self._interval_s = interval_s

    def run(self, stop: threading.Event) -> None:
        """Vacuum until ``stop``; a failed vacuum (database away, permissions) waits for the next round."""
        failing = False
        while not stop.wait(self._interval_s):
            try:
                vacuum(self._engine)
                failing = False
            except SQLAlchemyError as exc:
                if not failing:
                    log.warning("vacuum of %s failed (will try again): %s", ", ".join(CHURNING), type(exc).__name__)
                failing = True
