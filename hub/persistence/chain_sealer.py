"""Seals committed audit entries into the hash chain in batches, on one thread per engine.

Sealing inside every writer's commit put one lock (and, on PostgreSQL, the commit's flush to disk) in front
of every audited transaction of every process: doors, workers and staff requests queued on it. Writers now
only insert; a committing writer wakes its process's sealer, which chains everything committed so far in
one short transaction a few milliseconds later (several processes still serialize on the chain lock, one
batch at a time).  Until it is sealed, an entry is at most ``SWEEP_S`` plus one batch old: readers that
need the chain current (``AuditTrail.query``, ``AuditTrail.seal``) call ``flush`` first; ``verify`` never
seals. With audit keys (hub.security.audit_keys) only entries whose writer's tag holds are chained: a row
inserted into the table by hand stays unsealed, and ``verify`` reports it.
"""

from __future__ import annotations

import logging
import threading
import time
import weakref
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Engine, bindparam, event, select, update
from sqlalchemy.exc import SQLAlchemyError

from hub.persistence.database import read_connection
from hub.persistence.tables import audit_log
from hub.security.audit_chain import GENESIS, entry_hash, tag_holds
from hub.security.audit_keys import keys_of

log = logging.getLogger(__name__)

#: pg_advisory_xact_lock key serialising chain appends (727001 guards migrations)
CHAIN_LOCK = 727002
#: how long a woken sealer waits so that commits arriving together are sealed together
BATCH_DELAY_S = 0.05
#: a commit's wake-up comes just before the commit lands; a sweep this often catches what it missed
SWEEP_S = 0.5
#: the thread ends after this long without work (it starts again on the next commit)
IDLE_EXIT_S = 5.0
#: an unsealed entry older than this is reported by ``verify``: far past a sweep, even on a busy database
UNSEALED_GRACE_S = 30.0
#: ids of refused (forged) entries already logged, so that each sweep does not log them again
_REFUSED: set[int] = set()


# built once: the sealer runs them many times a second
_PENDING = select(audit_log).where(audit_log.c.hash.is_(None)).order_by(audit_log.c.id)
_ANY_PENDING = select(audit_log.c.id).where(audit_log.c.hash.is_(None)).limit(1)
_HEAD = (
    select(audit_log.c.seq, audit_log.c.hash)
    .where(audit_log.c.seq.is_not(None))
    .order_by(audit_log.c.seq.desc())
    .limit(1)
)
#: PostgreSQL: the whole batch in one statement (an executemany is one UPDATE per entry)
_LINK_ALL = (
    "UPDATE audit_log SET seq = v.seq, prev_hash = v.prev, hash = v.hash, key_id = v.kid "
    "FROM unnest(%s::bigint[], %s::bigint[], %s::text[], %s::text[], %s::text[]) "
    "AS v(id, seq, prev, hash, kid) WHERE audit_log.id = v.id"
)
_LINK = (
    update(audit_log)
    .where(audit_log.c.id == bindparam("entry_id"))
    .values(
        seq=bindparam("new_seq"),
        prev_hash=bindparam("new_prev"),
        hash=bindparam("new_hash"),
        key_id=bindparam("new_kid"),
    )
)
_LINK_KEYS = ("entry_id", "new_seq", "new_prev", "new_hash", "new_kid")


def seal(conn: Connection) -> int:
    """Chain every visible unsealed entry (with keys: whose tag holds) after the current head; how many."""
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({CHAIN_LOCK})")
    rows = _genuine(conn, [dict(r) for r in conn.execute(_PENDING).mappings()])
    if not rows:
        return 0
    head = conn.execute(_HEAD).first()
    seq, prev = (head.seq, head.hash) if head else (0, GENESIS)
    keys = keys_of(conn)
    kid = keys.sealing_id if keys else None
    links = []
    for row in rows:
        seq += 1
        digest = entry_hash({**row, "seq": seq}, prev, keys)
        links.append({"entry_id": row["id"], "new_seq": seq, "new_prev": prev, "new_hash": digest, "new_kid": kid})
        prev = digest
    write_links(conn, links)
    return len(rows)


def write_links(conn: Connection, links: list[dict[str, Any]]) -> None:
    """Store the chain positions (``_LINK_KEYS`` each) in one statement."""
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql(_LINK_ALL, tuple([link[key] for link in links] for key in _LINK_KEYS))
    else:
        conn.execute(_LINK, links)


def _genuine(conn: Connection, rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows a hub process wrote: with keys, those whose writer's tag holds; the others stay unsealed."""
    keys = keys_of(conn)
    if keys is None:
        return list(rows)
    genuine = [row for row in rows if tag_holds(row, keys)]
    refused = {row["id"] for row in rows} - {row["id"] for row in genuine} - _REFUSED
    if refused:
        if len(_REFUSED) > 10_000:
            _REFUSED.clear()
        _REFUSED.update(refused)
        log.error(
            "audit entries not sealed: no valid writer's tag (inserted into the table directly?): ids %s",
            sorted(refused)[:20],
        )
    return genuine


class ChainSealer:
    """The sealing thread of one engine: woken by commits, ends when idle, stopped when the engine is disposed."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._wake = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._stopping = False
        #: commits do not wake this sealer, it only sweeps (every SWEEP_S): for a process whose entries a
        #: woken sealer of another process chains first anyway (``rxhub run``'s doors beside its workers)
        self.sweep_only = False

    def poke(self) -> None:
        """A transaction holding new entries is committing: seal them shortly (or on the next sweep)."""
        if not self.sweep_only:
            self._wake.set()
        with self._lock:
            if self._thread is None and not self._stopping:
                self._thread = threading.Thread(target=self._run, name="audit-sealer", daemon=True)
                self._thread.start()

    def flush(self) -> int:
        """Seal everything committed so far, now, in the caller's thread (readers that need the chain current)."""
        with read_connection(self._engine) as conn:
            if conn.execute(_ANY_PENDING).first() is None:
                return 0
        with self._engine.begin() as conn:
            return seal(conn)

    def stop(self, timeout_s: float = 10.0) -> None:
        """Seal what is left and end the thread (the engine is being disposed)."""
        with self._lock:
            self._stopping = True
            thread = self._thread
        self._wake.set()
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout_s)

    def _run(self) -> None:
        last_work, failing = time.monotonic(), False
        while True:
            woken = self._wake.wait(SWEEP_S)
            if woken:
                self._wake.clear()
                last_work = time.monotonic()
                time.sleep(BATCH_DELAY_S)
            try:
                if self._sweep(woken):
                    last_work = time.monotonic()
                failing = False
            except SQLAlchemyError as exc:
                if not failing:
                    log.warning("audit entries not sealed yet (will retry): %s", type(exc).__name__)
                failing = True
                time.sleep(SWEEP_S)
            with self._lock:
                if self._stopping or (time.monotonic() - last_work > IDLE_EXIT_S and not self._wake.is_set()):
                    self._thread = None
                    return

    def _sweep(self, woken: bool) -> int:
        if not woken:  # a periodic look: read first, so an idle hub takes no write lock
            return self.flush()
        with self._engine.begin() as conn:
            return seal(conn)


_SEALERS: weakref.WeakKeyDictionary[Engine, ChainSealer] = weakref.WeakKeyDictionary()
_SEALERS_LOCK = threading.Lock()


def sealer_for(engine: Engine) -> ChainSealer:
    """The engine's sealer, created (and tied to the engine's disposal) on first use."""
    with _SEALERS_LOCK:
        sealer = _SEALERS.get(engine)
        if sealer is None:
            sealer = _SEALERS[engine] = ChainSealer(engine)
            if not event.contains(engine, "engine_disposed", _stop_on_dispose):
                event.listen(engine, "engine_disposed", _stop_on_dispose)
        return sealer


def _stop_on_dispose(engine: Engine) -> None:
    with _SEALERS_LOCK:
        sealer = _SEALERS.pop(engine, None)
    if sealer is None:
        return
    sealer.stop()
    try:
        sealer.flush()  # whatever the thread had not reached yet
    except SQLAlchemyError as exc:
        log.warning("audit entries left unsealed at shutdown (the next start seals them): %s", type(exc).__name__)
    engine.pool.dispose()
