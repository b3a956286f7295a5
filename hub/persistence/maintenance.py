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
from datetime import datetime

from sqlalchemy import Engine, delete, select, tuple_
from sqlalchemy.exc import SQLAlchemyError

from hub.persistence.tables import audit_log, claim_transmissions, outbox, prescriptions, processed_messages

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


def forget_processed(engine: Engine, processed_before: datetime, batch: int = 5000) -> int:
    """Delete idempotency records older than the cutoff, in short transactions; returns how many.

    Six rows an order, kept forever, were the hub's largest table. A record guards against a redelivery,
    which comes within minutes (an unacked delivery, a resent HL7 message mapped to the same command ids);
    dead letters replayed later were never applied, so they need none.
    """
    c = processed_messages.c
    forgotten = 0
    while True:
        with engine.begin() as conn:
            keys = conn.execute(select(c.consumer, c.message_id).where(c.processed_at < processed_before)
                                .limit(batch)).all()
            if not keys:
                return forgotten
            conn.execute(delete(processed_messages).where(
                tuple_(c.consumer, c.message_id).in_([tuple(k) for k in keys])))
        forgotten += len(keys)


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
                    log.warning("vacuum of %s failed (will try again): %s", ", ".join(CHURNING),
                                type(exc).__name__)
                failing = True
