"""What one destination's sender is doing: kept by its thread, written to the database for every process.

``rxhub outbound status``, ``/metrics`` and the admin dashboard read the row (hub.persistence.outbound_state),
so they show the sender's real state whichever process runs it.  A row not written for ``STALE_AFTER_S``
(beyond the longest silent wait, which writes a heartbeat) belongs to a sender that is no longer running.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import UTC, datetime
from enum import StrEnum

from hub.domain.order_parts import Frozen
from hub.errors import DatabaseUnavailable
from hub.observability.metrics import OUTBOUND, OUTBOUND_RETRIES, OUTBOUND_SENT, start_destination_at_zero
from hub.persistence.outbound_state import DestinationRow, OutboundStateStore

log = logging.getLogger(__name__)

#: a running sender writes its row at least this often (heartbeat), so an older row is a stopped one
HEARTBEAT_S = 5.0
STALE_AFTER_S = 30.0
COUNTS = ("sent", "delivered", "retried", "dead_lettered", "superseded", "skipped", "stray_acks")


class SenderState(StrEnum):
    """What an operator sees: idle, sending, retrying (failing), stuck (failing too long), or not running."""

    STARTING = "starting"
    IDLE = "idle"
    SENDING = "sending"
    RETRYING = "retrying"
    STUCK = "stuck"
    BROKER_DOWN = "broker_down"
    STOPPED = "stopped"
    #: no sender has reported (never ran, or its process died without saying so)
    UNKNOWN = "unknown"


class DestinationStatus(Frozen):
    """A snapshot for operators: state, connection, backlog depth and age, message in flight, last error."""

    name: str
    state: SenderState
    connected: bool = False
    #: events waiting for this destination, the one in flight included; None when the broker is unreachable
    backlog: int | None
    #: seconds since the oldest undelivered event (the one in flight) happened; None when none is in flight
    oldest_age_s: float | None = None
    in_flight_control_id: str | None = None
    #: sends of the message in flight so far
    attempts: int = 0
    last_error: str | None = None
    last_error_at: datetime | None = None
    sent: int = 0
    delivered: int = 0
    retried: int = 0
    dead_lettered: int = 0
    superseded: int = 0
    skipped: int = 0
    stray_acks: int = 0
    consumers: int | None = None


def status_from_row(
    row: DestinationRow | None,
    name: str,
    backlog_ready: int | None,
    consumers: int | None,
    stuck_after_s: float,
    now: datetime | None = None,
) -> DestinationStatus:
    """Operators' view of a stored row plus the broker's count of messages not yet taken."""
    if row is None:
        return DestinationStatus(name=name, state=SenderState.UNKNOWN, backlog=backlog_ready, consumers=consumers)
    now = now or datetime.now(UTC)
    state = SenderState(row.state)
    if (
        state not in (SenderState.STOPPED, SenderState.UNKNOWN)
        and (now - row.updated_at).total_seconds() > STALE_AFTER_S
    ):
        state = SenderState.UNKNOWN
    elif state is SenderState.SENDING and row.failing_since is not None:
        failing = (now - row.failing_since).total_seconds()
        state = SenderState.STUCK if failing >= stuck_after_s else SenderState.RETRYING
    in_flight = row.in_flight_control_id if state is not SenderState.UNKNOWN else None
    age = None
    if in_flight and row.in_flight_event_time is not None:
        age = max((now - row.in_flight_event_time).total_seconds(), 0.0)
    backlog = None if backlog_ready is None else backlog_ready + (1 if in_flight else 0)
    counts = {k: int(row.counts.get(k, 0)) for k in COUNTS}
    return DestinationStatus(
        name=name,
        state=state,
        connected=row.connected and state is not SenderState.UNKNOWN,
        backlog=backlog,
        oldest_age_s=age,
        in_flight_control_id=in_flight,
        attempts=row.attempts if in_flight else 0,
        last_error=row.last_error,
        last_error_at=row.last_error_at,
        consumers=consumers,
        **counts,
    )


class DestinationState:
    """Mutable, lock-guarded live state of one sender; every change is written to ``store`` when given."""

    def __init__(self, name: str, store: OutboundStateStore | None = None, stuck_after_s: float = 300.0) -> None:
        self.name, self.store, self.stuck_after_s = name, store, stuck_after_s
        self.ready = threading.Event()
        self._lock = threading.Lock()
        self.state = SenderState.STARTING
        self.connected = False
        self.in_flight: str | None = None
        self.in_flight_event_time: datetime | None = None
        self.failing_since: datetime | None = None
        self.attempts = 0
        self.last_error: str | None = None
        self.last_error_at: datetime | None = None
        self.counts = dict.fromkeys(COUNTS, 0)
        self._written = 0.0
        #: False until this sender takes up a message: a standby (single active consumer) must not write
        #: "idle" over the row of the process that is delivering
        self._taken_up = False
        start_destination_at_zero(name)

    @property
    def stray_acks(self) -> int:
        """ACKs that answered no message in flight."""
        return self.counts["stray_acks"]

    def set(self, state: SenderState) -> None:
        """Enter a phase (idle, broker_down, stopped); without the broker the sender holds no connection."""
        with self._lock:
            self.state = state
            self.connected = self.connected and state not in (SenderState.BROKER_DOWN, SenderState.STOPPED)
        self._persist(quiet=True)

    def link(self, connected: bool) -> None:
        """The destination took a connection, or refused or broke one."""
        with self._lock:
            changed, self.connected = self.connected != connected, connected
        if changed:
            self._persist()

    def begin(self, control_id: str, event_time: datetime) -> None:
        """A message is taken up; it stays in flight until settled."""
        with self._lock:
            self.state, self.in_flight, self.in_flight_event_time = SenderState.SENDING, control_id, event_time
            self.attempts, self.failing_since = 0, None
            self._taken_up = True
        self._persist()

    def attempt(self) -> None:
        """The message in flight is written to the destination (again)."""
        with self._lock:
            self.attempts += 1
            self.counts["sent"] += 1
            OUTBOUND_SENT.labels(self.name).inc()
            if self.attempts > 1:
                self.counts["retried"] += 1
                OUTBOUND_RETRIES.labels(self.name).inc()
            self.state = SenderState.SENDING
        self._persist()

    def error(self, text: str) -> None:
        """Remember the latest failure, for operators; the message in flight is failing from now on."""
        with self._lock:
            self.last_error, self.last_error_at = text[:1000], datetime.now(UTC)
            if self.in_flight is not None and self.failing_since is None:
                self.failing_since = self.last_error_at
        self._persist()

    def stray(self) -> None:
        """Count an ACK that answered no message in flight."""
        with self._lock:
            self.counts["stray_acks"] += 1
        self._persist()

    def settle(self, outcome: str) -> None:
        """The message in flight is done: ``delivered``, ``dead_lettered``, ``superseded`` or ``skipped``."""
        with self._lock:
            self.counts[outcome] += 1
            OUTBOUND.labels(self.name, outcome).inc()
            self.in_flight, self.in_flight_event_time, self.attempts, self.failing_since = None, None, 0, None
            self.state = SenderState.IDLE
        self._persist()

    def heartbeat(self) -> None:
        """Rewrite the row when it has not been written for a while, so readers know the sender is alive."""
        if time.monotonic() - self._written >= HEARTBEAT_S:
            self._persist(quiet=True)

    def row(self) -> DestinationRow:
        """The state as stored."""
        with self._lock:
            return DestinationRow(
                name=self.name,
                state=self.state.value,
                connected=self.connected,
                in_flight_control_id=self.in_flight,
                in_flight_event_time=self.in_flight_event_time,
                failing_since=self.failing_since,
                attempts=self.attempts,
                last_error=self.last_error,
                last_error_at=self.last_error_at,
                counts=dict(self.counts),
                updated_at=datetime.now(UTC),
            )

    def snapshot(self, backlog_ready: int | None, consumers: int | None = None) -> DestinationStatus:
        """Status from this live state plus the broker's count of messages not yet taken."""
        return status_from_row(self.row(), self.name, backlog_ready, consumers, self.stuck_after_s)

    def _persist(self, *, quiet: bool = False) -> None:
        """Write the row; a ``quiet`` write (phase, heartbeat) of a sender that has taken up nothing yet
        leaves alone a fresh row showing another process's message in flight."""
        self._written = time.monotonic()
        if self.store is None:
            return
        try:
            if quiet and not self._taken_up and self._another_is_delivering():
                return
            self.store.save(self.row())
        except DatabaseUnavailable as exc:  # operators' view only: delivery goes on without it
            log.warning("outbound %s: state not written: %s", self.name, exc)

    def _another_is_delivering(self) -> bool:
        assert self.store is not None
        stored = self.store.load([self.name]).get(self.name)
        return (
            stored is not None
            and stored.in_flight_control_id is not None
            and (datetime.now(UTC) - stored.updated_at).total_seconds() <= STALE_AFTER_S
        )
