"""A second line behind the payer timers: claims unanswered for too long get their timeout check anyway.

The timers are messages in a delay queue; if one is ever lost (an operator purges a queue, a broker loses a
disk) the claim would wait forever. The sweeper reads the claim ledger instead: any transmission still
unanswered well past the payer timeout gets a ``CheckClaimTimeout`` through the outbox, with an id derived
from the transmission, so a timer that does arrive and the sweep never act twice.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, select

from hub.domain.order_parts import Source
from hub.domain.workflow_commands import CheckClaimTimeout
from hub.messaging.envelope import Envelope, derived_message_id
from hub.persistence.database import read_connection
from hub.persistence.prescriptions import PrescriptionRepository
from hub.persistence.tables import claim_transmissions
from hub.persistence.unit_of_work import unit_of_work

log = logging.getLogger(__name__)


class ClaimSweeper:
    """Periodically re-arms the timeout of claims the payer never answered."""

    def __init__(self, engine: Engine, *, payer_timeout_ms: int, interval_s: float = 10.0,
                 after_commit: Callable[[], None] | None = None) -> None:
        self._engine = engine
        self._grace = timedelta(milliseconds=payer_timeout_ms * 3)
        self._interval = interval_s
        self._after_commit = after_commit

    def run(self, stop: threading.Event) -> None:
        """Sweep until stopped; a failed sweep only waits for the next."""
        while not stop.wait(self._interval):
            try:
                self.sweep_once()
            except Exception:  # the sweeper must outlive a database hiccup
                log.exception("claim sweep failed; will try again")

    def sweep_once(self, now: datetime | None = None) -> int:
        """Queue a timeout check for every overdue unanswered transmission; returns how many."""
        cutoff = (now or datetime.now(UTC)) - self._grace
        c = claim_transmissions.c
        query = select(c.exchange_id, c.prescription_id, c.fill_number, c.attempt, c.sent_at).where(
            c.answered_at.is_(None), c.sent_at < cutoff)
        with read_connection(self._engine) as conn:
            overdue = conn.execute(query).all()
        queued = 0
        for exchange_id, prescription_id, fill_number, attempt, sent_at in overdue:
            with unit_of_work(self._engine) as uow:
                row = PrescriptionRepository(uow.conn).get(prescription_id)
                if row is None:
                    continue
                check = CheckClaimTimeout(exchange_id=exchange_id, prescription_id=prescription_id,
                                          fill_number=fill_number, attempt=attempt)
                envelope = Envelope.wrap(check, correlation_id=row.correlation_id,  # type: ignore[arg-type]
                                         source=Source.HUB,
                                         message_id=derived_message_id("sweep", exchange_id, sent_at.isoformat()))
                if uow.already_queued(str(envelope.message_id)):
                    continue
                uow.add_command(envelope)
                queued += 1
        if queued:
            log.warning("re-armed %d overdue claim timeout(s)", queued)
            if self._after_commit:
                self._after_commit()
        return queued
