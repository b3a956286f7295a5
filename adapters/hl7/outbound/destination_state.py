"""What one destination's sender is doing, shared between its thread and ``rxhub outbound status``."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from enum import StrEnum

from hub.domain.order_parts import Frozen
from hub.observability.metrics import OUTBOUND, start_destination_at_zero


class SenderState(StrEnum):
    """The sender's phase; BACKING_OFF with a ``last_error`` means the destination is failing."""

    STARTING = "starting"
    IDLE = "idle"
    SENDING = "sending"
    BACKING_OFF = "backing_off"
    BROKER_DOWN = "broker_down"
    STOPPED = "stopped"
    #: ``rxhub outbound status`` from another process: only the broker's view is known
    UNKNOWN = "unknown"


class DestinationStatus(Frozen):
    """A snapshot for operators: phase, backlog depth and age, last error, counters."""

    name: str
    state: SenderState
    #: events waiting for this destination, the one in flight included; None when the broker is unreachable
    backlog: int | None
    #: seconds since the oldest undelivered event happened; None when nothing is known to be waiting
    oldest_age_s: float | None = None
    in_flight_control_id: str | None = None
    attempts: int = 0
    last_error: str | None = None
    last_error_at: datetime | None = None
    delivered: int = 0
    dead_lettered: int = 0
    skipped: int = 0
    stray_acks: int = 0
    consumers: int | None = None


class DestinationState:
    """Mutable, lock-guarded live state, written by the sender thread and read by status calls."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.ready = threading.Event()
        self._lock = threading.Lock()
        self.state = SenderState.STARTING
        self.in_flight: str | None = None
        self.in_flight_event_time: datetime | None = None
        self.attempts = 0
        self.last_error: str | None = None
        self.last_error_at: datetime | None = None
        self.delivered = self.dead_lettered = self.skipped = self.stray_acks = 0
        start_destination_at_zero(name)

    def set(self, state: SenderState) -> None:
        """Enter a phase."""
        with self._lock:
            self.state = state

    def begin(self, control_id: str, event_time: datetime) -> None:
        """A message is taken up; it stays in flight until settled."""
        with self._lock:
            self.state, self.in_flight, self.in_flight_event_time, self.attempts = (
                SenderState.SENDING, control_id, event_time, 0)

    def attempt(self) -> None:
        """One more send of the message in flight."""
        with self._lock:
            self.attempts += 1
            self.state = SenderState.SENDING

    def error(self, text: str) -> None:
        """Remember the latest failure, for operators."""
        with self._lock:
            self.last_error, self.last_error_at = text[:1000], datetime.now(UTC)

    def stray(self) -> None:
        """Count an ACK that answered no message in flight."""
        with self._lock:
            self.stray_acks += 1

    def settle(self, outcome: str) -> None:
        """The message in flight is done: ``delivered``, ``dead_lettered`` or ``skipped``."""
        with self._lock:
            setattr(self, outcome, getattr(self, outcome) + 1)
            OUTBOUND.labels(self.name, outcome).inc()
            self.in_flight, self.in_flight_event_time, self.attempts = None, None, 0
            self.state = SenderState.IDLE

    def snapshot(self, backlog_ready: int | None, consumers: int | None = None) -> DestinationStatus:
        """Status from this state plus the broker's count of messages not yet taken."""
        with self._lock:
            age = None
            if self.in_flight_event_time is not None:
                age = max(time.time() - self.in_flight_event_time.timestamp(), 0.0)
            backlog = None if backlog_ready is None else backlog_ready + (1 if self.in_flight else 0)
            return DestinationStatus(
                name=self.name, state=self.state, backlog=backlog, oldest_age_s=age,
                in_flight_control_id=self.in_flight, attempts=self.attempts, last_error=self.last_error,
                last_error_at=self.last_error_at, delivered=self.delivered, dead_lettered=self.dead_lettered,
                skipped=self.skipped, stray_acks=self.stray_acks, consumers=consumers,
            )
