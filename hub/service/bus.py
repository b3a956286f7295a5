"""Runs commands through their handlers inside a unit of work, exactly once per message id.

``handle_batch`` runs the commands a consumer already holds in one transaction: the begin, commit, pool
checkout, the idempotency marks, the outbox and audit inserts and the relay's and sealer's wake-ups are
paid once per batch instead of once per message. If any command of the batch fails, nothing of the batch
was committed and each runs again on its own, so a bad message costs only itself.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine

from hub.domain.commands import COMMAND_TYPES, Command, ReceivePrescription
from hub.domain.order_parts import PatientInfo
from hub.domain.patient_identity import scoped_to_sender
from hub.errors import MessageContentError
from hub.messaging.envelope import Envelope
from hub.observability.metrics import HANDLED, HANDLER_SECONDS
from hub.persistence.outbox_store import OutboxRow
from hub.persistence.unit_of_work import SqlTransactions
from hub.service.identity import identifier_scope
from hub.service.unit_of_work import MessageUnitOfWork, Transaction, Transactions, UnitOfWork

log = logging.getLogger(__name__)

#: a handler bound to its worker's context (``hub.service.handlers.step_handlers``), as the bus calls it
CommandHandler = Callable[[Any, Envelope, UnitOfWork], None]
#: called after each commit with the outbox rows it wrote (the relay publishes them from memory)
AfterCommit = Callable[[Sequence[OutboxRow]], None]
#: held from just before a commit until its rows are handed over, so the relay receives them in commit order:
#: without it a thread descheduled between its commit and its hand-over let a later commit of the same order
#: (a cancel right behind its order, on another intake copy) reach subscribers first. A writer commits while
#: holding it; that never waits on another holder (SQLite has one writer at a time, a PostgreSQL commit takes
#: no new locks), so it cannot deadlock.
_COMMIT_ORDER = threading.Lock()


@dataclass
class MessageBus:
    """Dispatches envelopes to handlers registered as data: ``{command type: handler}``."""

    #: where its transactions open (an engine: ``SqlTransactions`` on it; the unit tests give a fake)
    transactions: Transactions | Engine
    handlers: Mapping[type[Command], CommandHandler]
    #: the consumer's name in the idempotency record (one per step)
    consumer: str
    after_commit: list[AfterCommit] = field(default_factory=list)

    def __post_init__(self) -> None:
        given = self.transactions
        self._transactions: Transactions = SqlTransactions(given) if isinstance(given, Engine) else given

    @property
    def engine(self) -> Engine:
        """The database the bus's transactions open on (a bus on fake transactions has none)."""
        if isinstance(self._transactions, SqlTransactions):
            return self._transactions.engine
        raise AttributeError("this bus runs on transactions of its own, not on a database engine")

    def handle_batch(self, envelopes: Sequence[Envelope]) -> list[BaseException | None]:
        """Apply each command once, all in one transaction; each one's outcome (None: applied or a duplicate)."""
        if len(envelopes) == 1:
            return [self._outcome(envelopes[0])]
        started = time.perf_counter()
        results: list[str] = []
        held = False
        try:
            # decoded once, for the read-ahead and the handlers; one that cannot be fails the batch like any error
            commands = [envelope.command() for envelope in envelopes]
            with self._transactions.batch() as transaction:
                fresh = transaction.claim(self.consumer, [str(e.message_id) for e in envelopes])
                _read_ahead(
                    transaction,
                    [(e, c) for e, c in zip(envelopes, commands, strict=True) if str(e.message_id) in fresh],
                )
                for envelope, command in zip(envelopes, commands, strict=True):
                    message_id = str(envelope.message_id)
                    claimed = message_id in fresh
                    fresh.discard(message_id)  # a second copy of it in this batch is a duplicate
                    results.append(self._apply(envelope, transaction.begin(envelope), claimed=claimed, command=command))
                held = _COMMIT_ORDER.acquire()  # released once the rows are handed over, or here if the commit fails
        except Exception as exc:
            if held:
                _COMMIT_ORDER.release()
            # nothing of the batch was committed: one at a time, so each failure is its own message's
            log.info("a batch of %d failed (%s); handling its messages one by one", len(envelopes), type(exc).__name__)
            return [self._outcome(envelope) for envelope in envelopes]
        try:
            for callback in self.after_commit:
                callback(transaction.written)
        finally:
            _COMMIT_ORDER.release()
        share = (time.perf_counter() - started) / len(envelopes)
        for envelope, result in zip(envelopes, results, strict=True):
            HANDLER_SECONDS.labels(self.consumer, envelope.type).observe(share)
            HANDLED.labels(self.consumer, envelope.type, result).inc()
        return [None] * len(envelopes)

    def _outcome(self, envelope: Envelope) -> BaseException | None:
        try:
            self.handle(envelope)
        except Exception as exc:
            return exc
        return None

    def handle(self, envelope: Envelope) -> None:
        """Apply the command once; a redelivered or resent message id is acknowledged and skipped."""
        started, result, held = time.perf_counter(), "error", False
        try:
            with self._transactions.one(envelope) as uow:
                result = self._apply(envelope, uow)
                held = result == "ok" and _COMMIT_ORDER.acquire()
            for callback in self.after_commit if held else ():
                callback(uow.written)
        finally:
            if held:
                _COMMIT_ORDER.release()
            HANDLER_SECONDS.labels(self.consumer, envelope.type).observe(time.perf_counter() - started)
            HANDLED.labels(self.consumer, envelope.type, result).inc()

    def _apply(
        self,
        envelope: Envelope,
        uow: MessageUnitOfWork,
        *,
        claimed: bool | None = None,
        command: Command | None = None,
    ) -> str:
        """Run the command's handler in ``uow`` unless this consumer applied the message before: "ok" or
        "duplicate"; a staff command's outcome (applied, or refused by its handler) is queued with its effects.
        The idempotency mark comes first: it commits with the handler's effects or not at all
        (``claimed``: the batch already marked it, True if it was new; ``command``: the batch decoded it)."""
        known = COMMAND_TYPES.get(envelope.type)
        handler = self.handlers.get(known) if known is not None else None
        if handler is None:
            raise MessageContentError(f"{self.consumer} has no handler for {envelope.type!r}")
        command = envelope.command() if command is None else command
        if claimed is None:
            claimed = uow.claim_message(self.consumer, envelope.message_id)
        if not claimed:
            log.info("duplicate %s skipped", envelope.type, extra={"message_id": str(envelope.message_id)})
            return "duplicate"
        handler(command, envelope, uow)
        uow.record_outcome()
        return "ok"


def _read_ahead(transaction: Transaction, batch: Sequence[tuple[Envelope, Command]]) -> None:
    """One read of the prescriptions the batch's commands name (by id, or, for a command that names none, as
    a new order or a cancel does, by its correlation id) instead of one per command; one of the patient
    candidates of its new orders."""
    ids: list[str] = []
    correlation_ids: list[str] = []
    patients: list[PatientInfo] = []
    for envelope, command in batch:
        prescription_id = getattr(command, "prescription_id", None)
        if isinstance(prescription_id, str):
            ids.append(prescription_id)
        else:
            correlation_ids.append(str(envelope.correlation_id))
        if isinstance(command, ReceivePrescription):  # as intake matches it (hub.service.identity)
            patients.append(scoped_to_sender(command.patient, identifier_scope(envelope)))
    transaction.prefetch(ids=ids, correlation_ids=correlation_ids, new_orders=len(patients), patients=patients)
