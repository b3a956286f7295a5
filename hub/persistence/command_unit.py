"""One command's unit of work on its transaction's connection: the repositories its handler uses, and the events,
commands, audit entries and outcome it queues for the transaction to write at its end.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, select

from hub.domain.events import Event
from hub.messaging.cloudevents import CONTENT_TYPE, encode, event_id, to_cloudevent
from hub.messaging.envelope import Envelope
from hub.messaging.headers import SOURCE_HEADER
from hub.persistence import audit as audit_trail
from hub.persistence import command_outcomes
from hub.persistence.actors import StaffActors
from hub.persistence.claims import ClaimLedger
from hub.persistence.identity_conflicts import IdentityConflicts
from hub.persistence.outbox_store import OutboxRow
from hub.persistence.parties import PartyRepository
from hub.persistence.prescriptions import PrescriptionRepository
from hub.persistence.refused_orders import RefusedOrders
from hub.persistence.stock import StockRepository
from hub.persistence.tables import outbox
from hub.persistence.transaction_state import TransactionState
from hub.persistence.transaction_writes import Writes, claim_messages


class UnitOfWork:
    """Collects one command's writes on the transaction's connection.

    Made by ``Transaction.begin`` only: what it queues is written by the transaction that owns ``writes``.
    """

    def __init__(
        self,
        conn: Connection,
        *,
        state: TransactionState | None = None,
        writes: Writes,
        causation: Envelope | None = None,
        actor: str | None = None,
        shelves: dict[str, list[Any]],
        memo: dict[Any, Any],
        source: str,
        identifiers: bool = False,
    ):
        self.conn = conn
        self.state = state if state is not None else TransactionState()
        self.prescriptions = PrescriptionRepository(conn, self.state)
        self.parties = PartyRepository(conn, self.state)
        self.stock = StockRepository(conn, self.state)
        self.claims = ClaimLedger(conn)
        self.refused_orders = RefusedOrders(conn, self.state)
        self.identity_conflicts = IdentityConflicts(conn, self.state)
        self.actors = StaffActors(conn)
        #: the CloudEvents source of this deployment's events, part of each event id's name
        self.source = source
        #: whether events carry the patient's identifiers (``RXHUB_EVENTS_INCLUDE_IDENTIFIERS``)
        self.identifiers = identifiers
        self.causation = causation
        self.actor = actor or (causation.actor if causation else None)
        self._event_index = 0
        self._writes = writes
        self.published_event_names: list[str] = []
        #: lots of an NDC this transaction has read for update (and changed), so it reads them once; shared by
        #: the units of work of one transaction
        self.shelves = shelves
        #: what the transaction has read that none of its commands changes (the users behind its commands),
        #: shared by its units of work, so a batch reads each once
        self.memo = memo
        #: why the handler declined its command without an error (``refuse``); None: applied
        self.refusal: str | None = None
        #: the prescription the command made (a verbal order's), for its outcome
        self.subject: str | None = None

    @property
    def written(self) -> list[OutboxRow]:
        """The outbox rows the transaction wrote (complete once it ended), for the relay to publish from memory."""
        return self._writes.written

    def claim_message(self, consumer: str, message_id: uuid.UUID | str) -> bool:
        """Record the message as applied now, in this transaction; False if it was applied before."""
        return bool(claim_messages(self.conn, consumer, [str(message_id)]))

    def refuse(self, reason: str) -> None:
        """The handler declined the command by a rule of its own, without an error or a dead letter (a refill
        with none left, a cancel of a closed prescription): what its sender reads as the reason."""
        self.refusal = reason

    def record_outcome(self) -> None:
        """Queue the outcome of this unit's staff command (one with an ``actor``; others have none): applied,
        or refused with the reason its handler gave."""
        envelope = self.causation
        if envelope is None or not envelope.actor:
            return
        outcome = command_outcomes.REFUSED if self.refusal else command_outcomes.APPLIED
        self._writes.outcomes.append(
            command_outcomes.outcome_row(envelope, outcome, reason=self.refusal, prescription_id=self.subject)
        )

    def audit(
        self,
        *,
        actor: str,
        role: str,
        action: str,
        prescription_id: str | None = None,
        outcome: str = "ok",
        detail: dict[str, Any] | None = None,
        patient_id: str | None = None,
    ) -> None:
        """Queue an audit entry, stamped now, to be written with the transaction's other rows."""
        self._writes.audit.append(
            audit_trail.entry(
                actor=actor,
                role=role,
                action=action,
                prescription_id=prescription_id,
                outcome=outcome,
                detail=detail,
                patient_id=patient_id,
            )
        )

    def already_queued(self, row_id: str) -> bool:
        """True if an outbox row with this id exists (a derived command queued before)."""
        if self._writes.queued(row_id):
            return True
        return self.conn.execute(select(outbox.c.seq).where(outbox.c.id == row_id)).first() is not None

    def add_event(
        self,
        event: Event,
        *,
        correlation_id: uuid.UUID | str,
        patient_id: str | None = None,
        change: str | None = None,
    ) -> str:
        """Queue a public event in the outbox, naming the hub's patient when known; returns its stable id.

        ``change`` names the state change itself when more than one message can cause it (a duplicated payer
        answer, a sweeper pass): the id then derives from it, so one change is one event id whatever caused it."""
        causation = self.causation.message_id if self.causation else uuid.uuid4()
        eid = (
            event_id(self.source, change, event.name, 0)
            if change
            else event_id(self.source, causation, event.name, self._event_index)
        )
        self._event_index += 1
        if change and self.already_queued(eid):  # this change was published before: never two rows, one id
            return eid
        now = datetime.now(UTC)
        body = encode(
            to_cloudevent(
                event,
                event_id=eid,
                source=self.source,
                time=now,
                correlation_id=str(correlation_id),
                causation_id=str(causation),
                actor=self.actor,
                patient_id=patient_id,
                identifiers=self.identifiers,
            )
        )
        self._add_row(eid, "events", event.name, event.name, CONTENT_TYPE, str(correlation_id), body, {})
        self.published_event_names.append(event.name)
        return eid

    def add_command(self, envelope: Envelope) -> None:
        """Queue a command for another step; it leaves only if this transaction commits."""
        self._add_row(
            str(envelope.message_id),
            "commands",
            envelope.type,
            envelope.type,
            "application/json",
            str(envelope.correlation_id),
            envelope.to_bytes(),
            {SOURCE_HEADER: envelope.source.value},
        )

    def add_raw(
        self,
        *,
        row_id: str,
        target: str,
        routing_key: str,
        message_type: str,
        content_type: str,
        correlation_id: str | None,
        body: bytes,
        headers: dict[str, Any] | None = None,
    ) -> None:
        """Queue any message (a payer claim, a delayed check) to leave only if this transaction commits.

        ``target`` is "payer" (payer exchange), "delay" (default exchange: routing key = a delay queue),
        "events" or "commands"; a ``reply_to`` header becomes the AMQP reply-to property.
        """
        self._add_row(
            row_id, target, routing_key, message_type, content_type, correlation_id or "", body, headers or {}
        )

    def _add_row(
        self,
        row_id: str,
        target: str,
        routing_key: str,
        message_type: str,
        content_type: str,
        correlation_id: str,
        body: bytes,
        headers: dict[str, Any],
    ) -> None:
        self._writes.outbox.append(
            dict(
                id=row_id,
                created_at=datetime.now(UTC),
                target=target,
                routing_key=routing_key,
                message_type=message_type,
                content_type=content_type,
                correlation_id=correlation_id,
                body=body,
                headers=headers,
            )
        )
