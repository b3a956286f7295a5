"""The return-to-stock sweep: paid fills left in will-call past their plan's window go back with their B2.

Each process running the fill step sweeps will-call now and then; for each fill past its window it queues a
``ReturnToStock`` naming the fill, with an id derived from the fill and the moment it reached will-call, through
the outbox. Sweeps repeated or run by several processes queue it once, and the fill worker ignores it for a
fill no longer in will-call, so nothing is returned or reversed twice. The reversal itself is the ordinary
return to stock: ``claim.reversal_required`` and the claim ledger's rules.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from sqlalchemy import Engine

from hub.domain.order_parts import Source
from hub.domain.payer_sheet import PayerSheets
from hub.domain.return_window import past_window, ready_since, window_days
from hub.domain.states import RxState
from hub.domain.workflow_commands import ReturnToStock
from hub.messaging.envelope import Envelope, derived_message_id
from hub.persistence.database import read_connection
from hub.persistence.prescriptions import PrescriptionRepository, PrescriptionRow, load_aggregate
from hub.persistence.unit_of_work import unit_of_work
from hub.service.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)

#: will-call fills read per sweep, oldest first (the ones past a window come first)
BATCH = 500
REASON = "not picked up within the plan's return-to-stock window"


class ReturnSweeper:
    """Queues the return to stock of paid fills past their plan's window."""

    def __init__(
        self,
        engine: Engine,
        *,
        sheets: PayerSheets,
        default_days: float,
        interval_s: float,
        after_commit: Callable[[], None] | None = None,
    ) -> None:
        self._engine = engine
        self._sheets = sheets
        self._default_days = default_days
        self._interval = interval_s
        self._after_commit = after_commit

    def run(self, stop: threading.Event) -> None:
        """Sweep until stopped; a failed sweep only waits for the next."""
        while not stop.wait(self._interval):
            try:
                self.sweep_once()
            except Exception:  # the sweeper must outlive a database hiccup
                log.exception("return-to-stock sweep failed; will try again")

    def overdue(self, now: datetime) -> list[tuple[str, str, int, datetime]]:
        """(prescription id, correlation id, fill number, ready since) of each fill past its window."""
        with read_connection(self._engine) as conn:
            rows = PrescriptionRepository(conn).in_states([RxState.READY.value], limit=BATCH)
        return fills_past_window(rows, now, self._sheets, self._default_days)

    def sweep_once(self, now: datetime | None = None) -> int:
        """Queue a return to stock for every fill past its window; returns how many were queued."""
        queued = 0
        for prescription_id, correlation_id, fill_number, since in self.overdue(now or datetime.now(UTC)):
            with unit_of_work(self._engine) as uow:
                queued += queue_return(uow, prescription_id, correlation_id, fill_number, since)
        if queued:
            log.info("%d fill(s) past their return-to-stock window: returning them", queued)
            if self._after_commit:
                self._after_commit()
        return queued


def fills_past_window(
    rows: Sequence[PrescriptionRow], now: datetime, sheets: PayerSheets, default_days: float
) -> list[tuple[str, str, int, datetime]]:
    """(prescription id, correlation id, fill number, ready since) of each will-call fill past its plan's window."""
    found = []
    for row in rows:
        fill = load_aggregate(row).current_fill
        since = ready_since(fill)
        if since is not None and past_window(fill, now, window_days(fill, sheets, default_days)):
            found.append((row.id, row.correlation_id, fill.fill_number, since))
    return found


def queue_return(uow: UnitOfWork, prescription_id: str, correlation_id: str, fill_number: int, since: datetime) -> bool:
    """Queue the return to stock of one fill past its window, under an id derived from the fill and the moment it
    reached will-call (True), unless a sweep queued it before."""
    message_id = derived_message_id("return-window", prescription_id, str(fill_number), since.isoformat())
    if uow.already_queued(str(message_id)):
        return False
    command = ReturnToStock(prescription_id=prescription_id, reason=REASON, fill_number=fill_number)
    uow.add_command(
        Envelope.wrap(
            command,
            correlation_id=correlation_id,  # type: ignore[arg-type]
            source=Source.HUB,
            message_id=message_id,
        )
    )
    return True
