"""The payer timeout: claims the payer has not answered within it get their timeout check from the ledger.

The claim ledger row a claim step writes with the claim is its timer. Each process running the
claim-responses step sweeps the ledger every second (a quarter of the payer timeout when that is shorter)
through the partial index of unanswered transmissions, and queues a ``CheckClaimTimeout`` through the outbox
for any transmission unanswered for longer than the payer timeout, with an id derived from the
transmission, so sweeps repeated or run by several processes never act twice.

The same sweep sends again a status-unknown claim's reversal that went unanswered or met a 92 (host down)
once its ``retry_at`` is due: the claim-responses step sets it with a bounded exponential backoff
(``RXHUB_REVERSAL_RETRY_BASE_MS`` doubling up to ``RXHUB_REVERSAL_RETRY_CAP_MS``), so the reversal is retried
until the payer answers it, across worker restarts, and its ``SendClaim`` is fenced once a newer transmission
of the fill is out.

Until 2026-12-05 each claim armed its own timer, a message parked in a delay queue, with this sweep as the
second line behind it. That cost every claim an outbox row, its mark and a publish when it was sent, and a
dead-letter hop and a worker transaction a payer timeout later (the hub's and RabbitMQ's CPU after a
workflow batch: 0.9 ms per order with the timers, 0.4 without), almost always to find the claim answered;
and a timer in a queue can be lost (a purge, a broker stopping as its TTL ran out) while the ledger row is
committed with the claim itself.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import partial

from sqlalchemy import Engine, select
from sqlalchemy.exc import IntegrityError, InterfaceError, OperationalError

from hub.domain.eligibility import ELIGIBILITY
from hub.domain.order_parts import Source
from hub.domain.workflow_commands import CheckClaimTimeout, SendClaim
from hub.errors import DatabaseUnavailable
from hub.messaging.envelope import Envelope, derived_message_id
from hub.persistence.database import read_connection
from hub.persistence.tables import claim_transmissions, outbox
from hub.persistence.unit_of_work import unit_of_work
from hub.service.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)


class ClaimSweeper:
    """Queues the timeout check of claims the payer has not answered in time."""

    def __init__(
        self, engine: Engine, *, payer_timeout_ms: int, after_commit: Callable[[], None] | None = None
    ) -> None:
        self._engine = engine
        self._grace = timedelta(milliseconds=payer_timeout_ms)
        self._interval = min(1.0, payer_timeout_ms / 4000)
        self._after_commit = after_commit

    def run(self, stop: threading.Event) -> None:
        """Sweep until stopped; a failed sweep only waits for the next."""
        while not stop.wait(self._interval):
            try:
                self.sweep_once()
            except (DatabaseUnavailable, OperationalError, InterfaceError) as exc:  # a failover: no traceback
                log.warning("claim sweep: database unavailable (%s); will try again", _cause(exc))
            except Exception:  # the sweeper must outlive anything else too
                log.exception("claim sweep failed; will try again")

    def sweep_once(self, now: datetime | None = None) -> int:
        """Queue a timeout check for every overdue unanswered transmission, and the resend of every
        status-unknown claim's reversal whose retry is due; returns how many."""
        at = now or datetime.now(UTC)
        cutoff = at - self._grace
        c = claim_transmissions.c
        query = select(c.exchange_id, c.prescription_id, c.fill_number, c.attempt, c.sent_at).where(
            c.answered_at.is_(None), c.sent_at < cutoff
        )
        # a reversal still owed for a claim the payer never answered, due again (claim_responses._retry_reversal)
        retries = select(c.exchange_id, c.prescription_id, c.fill_number, c.attempt, c.transaction, c.resends).where(
            c.retry_at.is_not(None), c.retry_at <= at
        )
        with read_connection(self._engine) as conn:
            overdue = conn.execute(query).all()
            due = conn.execute(retries).all()
            ids = {
                row.exchange_id: derived_message_id("sweep", row.exchange_id, row.sent_at.isoformat())
                for row in overdue
            }
            # the resend's id is derived from the transmission and its resend number: queued once
            retry_ids = {
                row.exchange_id: derived_message_id("reversal-retry", row.exchange_id, row.resends + 1) for row in due
            }
            # checked before: one read, not a transaction per claim every sweep (a check that was dead-lettered
            # leaves its claim unanswered until an operator replays it)
            wanted = [str(i) for i in (*ids.values(), *retry_ids.values())]
            done = set(conn.scalars(select(outbox.c.id).where(outbox.c.id.in_(wanted)))) if wanted else set()
        queued = 0
        for exchange_id, prescription_id, fill_number, attempt, _sent_at in overdue:
            if str(ids[exchange_id]) in done:
                continue
            check = CheckClaimTimeout(
                exchange_id=exchange_id, prescription_id=prescription_id, fill_number=fill_number, attempt=attempt
            )
            queued += self._once(partial(queue_timeout_check, check=check, message_id=ids[exchange_id]))
        resent = 0
        for row in due:
            if str(retry_ids[row.exchange_id]) in done:
                continue
            again = SendClaim(
                prescription_id=row.prescription_id,
                fill_number=row.fill_number,
                attempt=row.attempt,
                transaction=row.transaction,
                resend=row.resends + 1,
            )
            resent += self._once(partial(queue_reversal_retry, again=again, message_id=retry_ids[row.exchange_id]))
        if queued:
            log.warning("%d claim(s) unanswered after the payer timeout: checking them", queued)
        if resent:
            log.warning("%d reversal(s) of unanswered claims still owed: sending them again", resent)
        if (queued or resent) and self._after_commit:
            self._after_commit()
        return queued + resent

    def _once(self, queue: Callable[[UnitOfWork], bool]) -> int:
        """One row's command in its own transaction; 0 when another process's sweep queued it first.

        Sweeps run in every process with the claim-responses step, over the same overdue rows in the same
        order: the check before misses a row another sweep inserted but had not committed, and its unique id
        then fails this insert. That is the other sweep's success, not a reason to stop this sweep (one such
        collision used to end the whole sweep, leaving every row behind it for a later one).
        """
        try:
            with unit_of_work(self._engine) as uow:
                return int(queue(uow))
        except IntegrityError:
            log.debug("claim sweep: a check was queued by another sweep first")
            return 0


def _cause(exc: Exception) -> str:
    """The driver's error class, never its text: a statement's parameters may name a patient."""
    return type(getattr(exc, "orig", None) or exc).__name__


def queue_reversal_retry(uow: UnitOfWork, again: SendClaim, message_id: uuid.UUID) -> bool:
    """Queue one due reversal's resend under its derived id (True), unless it was queued before."""
    row = uow.prescriptions.get(again.prescription_id)
    if row is None or uow.already_queued(str(message_id)):
        return False
    uow.add_command(
        Envelope.wrap(
            again,
            correlation_id=row.correlation_id,  # type: ignore[arg-type]
            source=Source.HUB,
            message_id=message_id,
        )
    )
    return True


def queue_timeout_check(uow: UnitOfWork, check: CheckClaimTimeout, message_id: uuid.UUID) -> bool:
    """Queue one overdue transmission's timeout check under its derived id (True), unless it was queued before
    or there is no fill to check: an E1 bills nothing, so an unanswered one is closed at once."""
    row = uow.prescriptions.get(check.prescription_id)
    if row is None:
        if check.exchange_id.endswith(":" + ELIGIBILITY):
            uow.claims.answered(check.exchange_id, "timeout")
        return False
    envelope = Envelope.wrap(
        check,
        correlation_id=row.correlation_id,  # type: ignore[arg-type]
        source=Source.HUB,
        message_id=message_id,
    )
    if uow.already_queued(str(envelope.message_id)):
        return False
    uow.add_command(envelope)
    return True
