"""The append-only audit trail: who (and in which role) did what to which prescription, and when.

Entries are hash-chained (hub.security.audit_chain).  ``record`` inserts on the caller's connection inside
its transaction; once that commits, the process's sealer (hub.persistence.chain_sealer) chains it with
whatever else committed meanwhile, so no writer waits on the chain's lock.
"""

from __future__ import annotations

import asyncio
import json
import threading
import weakref
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, event, insert, or_, select

from hub.persistence import command_outcomes
from hub.persistence.chain_sealer import UNSEALED_GRACE_S, sealer_for
from hub.persistence.database import execute_rows, read_connection
from hub.persistence.lane import Lane
from hub.persistence.tables import audit_log, prescriptions
from hub.security.audit_chain import ChainReport, entry_tag, verify_rows
from hub.security.audit_keys import keys_of

#: connections (the checkout, not the pooled connection) whose open transaction appended entries: its commit
#: wakes the sealer, its rollback forgets it; a checkout that ends drops out by itself
_UNSEALED: weakref.WeakSet[Connection] = weakref.WeakSet()
#: built once: every audited step runs it (building it per call cost more than executing it)
_INSERT = insert(audit_log)
#: engines whose commits already wake their sealer
_SEALED_ENGINES: weakref.WeakSet[Engine] = weakref.WeakSet()
#: the HTTP doors' lane gives its connection back after this long without entries
_LANE_IDLE_S = 5.0


@dataclass(frozen=True)
class AuditEntry:
    """One audited action."""

    at: datetime
    actor: str
    role: str
    action: str
    prescription_id: str | None
    outcome: str
    detail: dict[str, Any]
    patient_id: str | None = None
    seq: int | None = None
    hash: str | None = None


def record(
    conn: Connection,
    *,
    actor: str,
    role: str,
    action: str,
    prescription_id: str | None = None,
    outcome: str = "ok",
    detail: dict[str, Any] | None = None,
    patient_id: str | None = None,
) -> None:
    """Append one entry on the caller's connection (inside its transaction when it has one)."""
    append(
        conn,
        [
            entry(
                actor=actor,
                role=role,
                action=action,
                prescription_id=prescription_id,
                outcome=outcome,
                detail=detail,
                patient_id=patient_id,
            )
        ],
    )


def record_many(conn: Connection, entries: list[dict[str, Any]]) -> None:
    """Append several entries (``record``'s keyword arguments each) in one statement."""
    at = datetime.now(UTC)
    append(conn, [entry(at=at, **e) for e in entries])


def entry(
    *,
    actor: str,
    role: str,
    action: str,
    prescription_id: str | None = None,
    outcome: str = "ok",
    detail: dict[str, Any] | None = None,
    patient_id: str | None = None,
    at: datetime | None = None,
) -> dict[str, Any]:
    """One entry's row, stamped now unless ``at`` says when (``append`` writes it)."""
    return {
        "at": at or datetime.now(UTC),
        "actor": actor[:100],
        "role": role[:20],
        "action": action,
        "prescription_id": prescription_id,
        "patient_id": patient_id,
        "outcome": outcome[:20],
        "detail": json.dumps(detail or {}, default=str, sort_keys=True),
    }


def append(conn: Connection, rows: list[dict[str, Any]]) -> None:
    """Insert entry rows in one statement; the process's sealer chains them once the transaction commits."""
    if not rows:
        return
    _install_sealer(conn.engine)
    keys = keys_of(conn)
    if keys is not None:
        rows = [{**row, "tag": entry_tag(row, keys)} for row in rows]
    execute_rows(conn, _INSERT, rows)
    _UNSEALED.add(conn)


def _install_sealer(engine: Engine) -> None:
    if engine in _SEALED_ENGINES:  # every audited step passes here: a set lookup, not the event registry
        return
    if not event.contains(engine, "commit", _wake_sealer):
        event.listen(engine, "commit", _wake_sealer)
        event.listen(engine, "rollback", _forget)
    _SEALED_ENGINES.add(engine)


def _forget(conn: Connection) -> None:
    _UNSEALED.discard(conn)


def _wake_sealer(conn: Connection) -> None:
    if conn in _UNSEALED:
        _UNSEALED.discard(conn)
        sealer_for(conn.engine).poke()


@dataclass(frozen=True)
class _Pending:
    row: dict[str, Any]
    done: Future[None]
    #: the pending outcome row of the command the audited request queued (hub.persistence.command_outcomes)
    queued: dict[str, Any] | None = None


def _write_pending(conn: Connection, batch: list[_Pending]) -> None:
    with conn.begin():
        append(conn, [p.row for p in batch])
        command_outcomes.write(conn, [p.queued for p in batch if p.queued is not None], verdict=False)
    for p in batch:
        p.done.set_result(None)


def _entry(r: Any) -> AuditEntry:
    return AuditEntry(
        r["at"],
        r["actor"],
        r["role"],
        r["action"],
        r["prescription_id"],
        r["outcome"],
        json.loads(r["detail"] or "{}"),
        r["patient_id"],
        r["seq"],
        r["hash"],
    )


class AuditTrail:
    """Reads and writes the audit trail outside a unit of work (HTTP refusals, queries, verification)."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._lane: Lane | None = None
        self._lock = threading.Lock()

    def record(self, **kwargs: Any) -> None:
        """Append one entry in its own transaction."""
        with self._engine.begin() as conn:
            record(conn, **kwargs)

    async def record_soon(self, *, queued: dict[str, Any] | None = None, **kwargs: Any) -> None:
        """``record`` from the event loop: the entry is written (committed) when this returns, in one
        transaction with the entries of whatever other requests wait at the same moment (an approval's
        audit entry cost a thread hop, a pool checkout and a commit of its own); ``DatabaseUnavailable``
        when it could not be written. ``queued``: the pending outcome row of the command the request
        queued, committed with its entry (``hub.persistence.command_outcomes.outcome_row``)."""
        await asyncio.wrap_future(self.record_later(queued=queued, **kwargs))

    def record_later(self, *, queued: dict[str, Any] | None = None, **kwargs: Any) -> Future[None]:
        """Queue one entry for the trail's writer thread and return at once (a consumer refusing a forged
        command must not wait on the database); the future is done once it is written, or fails with
        ``DatabaseUnavailable``."""
        pending = _Pending(entry(**kwargs), Future(), queued)
        self._writer().submit(pending)
        return pending.done

    def close(self, timeout_s: float = 10.0) -> None:
        """Write what ``record_soon`` queued, then end its thread."""
        with self._lock:
            lane, self._lane = self._lane, None
        if lane is not None:
            lane.close(timeout_s)

    def _writer(self) -> Lane:
        with self._lock:
            if self._lane is None:
                self._lane = Lane(
                    "audit-writes", self._engine.connect, _write_pending, idle_s=_LANE_IDLE_S, what="audit trail"
                )
            return self._lane

    def query(
        self,
        *,
        prescription_id: str | None = None,
        actor: str | None = None,
        patient_id: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = 500,
    ) -> list[AuditEntry]:
        """Entries, oldest first, filtered by prescription, actor, patient (directly, via their prescriptions,
        or named among the patients a read showed) and time range."""
        sealer_for(self._engine).flush()  # what is returned carries its place in the chain
        c = audit_log.c
        query = select(audit_log).order_by(c.id).limit(limit)
        if prescription_id:
            query = query.where(c.prescription_id == prescription_id)
        if actor:
            query = query.where(c.actor == actor)
        if patient_id:  # reads of several patients at once name them in the detail (``patient_ids``)
            theirs = select(prescriptions.c.id).where(prescriptions.c.patient_id == patient_id)
            query = query.where(
                or_(
                    c.patient_id == patient_id,
                    c.prescription_id.in_(theirs),
                    c.detail.contains(f'"{patient_id}"', autoescape=True),
                )
            )
        if since:
            query = query.where(c.at >= since)
        if until:
            query = query.where(c.at <= until)
        with self._engine.connect() as conn:
            return [_entry(r) for r in conn.execute(query).mappings().all()]

    def seal(self) -> int:
        """Chain what has committed so far, now (tests, and readers that need every entry's place)."""
        return sealer_for(self._engine).flush()

    def verify(self, *, anchor: str | None = None, anchored_at: dict[int, str] | None = None) -> ChainReport:
        """Walk the whole chain and report every broken link; reads only (sealing here would chain a forged
        row as if the hub had written it). ``anchored_at``: seq -> hash of signed anchors to hold it to."""
        c = audit_log.c
        with read_connection(self._engine) as conn:
            rows = [dict(r) for r in conn.execute(select(audit_log).order_by(c.seq.is_(None), c.seq, c.id)).mappings()]
        return verify_rows(
            rows, anchor=anchor, keys=keys_of(self._engine), unsealed_grace_s=UNSEALED_GRACE_S, anchored_at=anchored_at
        )
