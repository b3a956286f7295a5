"""One database transaction per handled message: effects, idempotency mark and outbox rows together.

If the process dies before commit nothing happened and the broker redelivers; after commit the outbox
rows exist and the relay publishes them, whether or not this process lives to do it. Each command of a
transaction gets its own unit of work (``hub.persistence.command_unit``), handing its handler the repositories
it reads and writes through (``hub.service.unit_of_work`` declares what a handler may use), all on the
transaction's connection and sharing its ``TransactionState``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from typing import Any

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import DataError, OperationalError

from hub.domain.order_parts import PatientInfo
from hub.errors import DatabaseUnavailable, MessageContentError
from hub.messaging.envelope import Envelope
from hub.persistence import deferred
from hub.persistence.command_unit import UnitOfWork
from hub.persistence.engine_options import (
    EVENT_IDENTIFIERS_OPTION,
    EVENT_SOURCE_OPTION,
    event_identifiers,
    event_source,
    with_event_identifiers,
    with_event_source,
)
from hub.persistence.outbox_store import OutboxRow
from hub.persistence.parties import read_patients_ahead
from hub.persistence.prescriptions import prefetch
from hub.persistence.transaction_state import TransactionState
from hub.persistence.transaction_writes import Writes, claim_messages

__all__ = [
    "EVENT_IDENTIFIERS_OPTION",
    "EVENT_SOURCE_OPTION",
    "SqlTransactions",
    "Transaction",
    "UnitOfWork",
    "claim_messages",
    "event_identifiers",
    "event_source",
    "unit_of_work",
    "units_of_work",
    "with_event_identifiers",
    "with_event_source",
]


@contextmanager
def unit_of_work(
    engine: Engine, *, causation: Envelope | None = None, actor: str | None = None
) -> Iterator[UnitOfWork]:
    """Begin a transaction; commit on success, roll back on any error."""
    with units_of_work(engine) as transaction:
        yield transaction.begin(causation, actor)


class Transaction:
    """One database transaction shared by the units of work of several commands."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        #: created with the transaction and ended with it: nothing of it outlives it on the pooled connection
        self.state = TransactionState()
        self.writes = Writes()
        self.shelves: dict[str, list[Any]] = {}
        self.memo: dict[Any, Any] = {}
        self.source = event_source(conn)
        self.identifiers = event_identifiers(conn)

    def begin(self, causation: Envelope | None = None, actor: str | None = None) -> UnitOfWork:
        """The unit of work of one command (its own causation and event numbering) on the shared connection."""
        return UnitOfWork(
            self.conn,
            causation=causation,
            actor=actor,
            state=self.state,
            writes=self.writes,
            shelves=self.shelves,
            memo=self.memo,
            source=self.source,
            identifiers=self.identifiers,
        )

    def claim(self, consumer: str, message_ids: Sequence[str]) -> set[str]:
        """``claim_messages`` in this transaction."""
        return claim_messages(self.conn, consumer, message_ids)

    def prefetch(
        self,
        *,
        ids: Sequence[str] = (),
        correlation_ids: Sequence[str] = (),
        new_orders: int = 0,
        patients: Sequence[PatientInfo] = (),
    ) -> None:
        """Read the batch's prescriptions ahead (``hub.persistence.prescriptions.prefetch``), and the patient
        candidates of its new orders (``hub.persistence.parties.read_patients_ahead``)."""
        prefetch(self.conn, self.state, ids=ids, correlation_ids=correlation_ids, new_orders=new_orders)
        if patients:
            read_patients_ahead(self.conn, self.state, patients)

    @property
    def written(self) -> list[OutboxRow]:
        """The outbox rows written (complete once the block ended)."""
        return self.writes.written

    def end(self) -> None:
        """Drop what the transaction held back or read ahead (a rollback drops the rows it stood for)."""
        deferred.release(self.state)
        self.state.prefetched = None
        self.state.patients_ahead = None


@contextmanager
def units_of_work(engine: Engine) -> Iterator[Transaction]:
    """One transaction for several commands: ``transaction.begin(envelope)`` gives each its unit of work;
    their queued rows are written at the end, and all commit together or roll back together.

    A value the database refuses (PostgreSQL's SQLSTATE class 22: a NUL in text, a number or a text too
    long for its column) is bad content: the same command would fail every retry, so it is refused at once.
    """
    try:
        with engine.begin() as conn:
            transaction = Transaction(conn)
            deferred.hold(transaction.state)
            try:
                yield transaction
                deferred.flush(conn, transaction.state)
                transaction.writes.flush(conn)
            finally:
                transaction.end()
    except OperationalError as exc:
        raise DatabaseUnavailable(f"database unavailable: {exc.orig!r}") from exc
    except DataError as exc:
        # what comes after a colon quotes the value, and neither it nor the statement's parameters are
        # repeated: they may be a patient's details
        reason = (str(exc.orig).splitlines() or [""])[0].split(":")[0][:200]
        raise MessageContentError(f"the database cannot store a value of this command: {reason}") from exc


class SqlTransactions:
    """The bus's transactions on a database engine (``hub.service.unit_of_work.Transactions``)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def one(self, causation: Envelope) -> AbstractContextManager[UnitOfWork]:
        """One message's unit of work in a transaction of its own."""
        return unit_of_work(self.engine, causation=causation)

    def batch(self) -> AbstractContextManager[Transaction]:
        """One transaction for a batch of messages."""
        return units_of_work(self.engine)
