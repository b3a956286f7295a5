"""A pharmacy in memory for the handler tests: the fake store, the worker context, and commands delivered to
their registered handlers one unit of work each (as the bus would, without a database or a broker)."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from hub.domain.actors import Actor
from hub.domain.commands import Command, RecordClaimResponse
from hub.domain.order_parts import Source
from hub.domain.payer_sheet import PayerSheets
from hub.messaging.envelope import Envelope
from hub.messaging.topology import Topology
from hub.service.handlers import COMMAND_HANDLERS
from hub.service.workflow.context import WorkflowContext
from tests.unit.domain.builders import CATALOGUE, INTERACTIONS, PHARMACIST, PHARMACY, TECHNICIAN, order
from tests.unit.service.fakes import FakeClaimCodec, FakeStore, FakeUnitOfWork

TOPOLOGY = Topology(prefix="t")


class Pharmacy:
    """The store, the context, and a way to deliver commands."""

    def __init__(self, **context: Any) -> None:
        self.store = FakeStore()
        self.store.actors.actors = {a.user_id: a for a in (PHARMACIST, TECHNICIAN)}
        self.codec = FakeClaimCodec()
        fields: dict[str, Any] = dict(
            catalogue=CATALOGUE,
            interactions=INTERACTIONS,
            pharmacy=PHARMACY,
            pharmacy_npi="1234567893",
            topology=TOPOLOGY,
            claim_codec=self.codec,
            payer_sheets=PayerSheets(),
        )
        self.ctx = WorkflowContext(**{**fields, **context})
        self.correlation = uuid.uuid4()

    def deliver(
        self, command: Command, *, actor: Actor | None = None, source: Source = Source.HUB, principal: str | None = None
    ) -> FakeUnitOfWork:
        """Run the command's registered handler in a fresh unit of work over the store."""
        envelope = Envelope.wrap(
            command,
            correlation_id=self.correlation,
            source=Source.API if actor and source is Source.HUB else source,
            message_id=uuid.uuid4(),
            actor=actor.user_id if actor else None,
            principal=principal,
        )
        return self.run(envelope)

    def run(self, envelope: Envelope) -> FakeUnitOfWork:
        """Run an envelope (a follow-up command another handler queued) through its handler."""
        uow = FakeUnitOfWork(self.store, envelope)
        command = envelope.command()
        COMMAND_HANDLERS[type(command)](command, envelope, uow, self.ctx)
        return uow

    def follow(self, uow: FakeUnitOfWork) -> list[FakeUnitOfWork]:
        """Run the commands ``uow`` queued, as the relay and the next steps would."""
        return [self.run(envelope) for envelope in uow.commands]

    def order(self, **overrides: Any) -> str:
        """A new order received from an EHR (lisinopril, with coverage): its prescription id."""
        return self.ordered(**overrides)[0]

    def ordered(self, **overrides: Any) -> tuple[str, FakeUnitOfWork]:
        """``order``, with the unit of work that received it."""
        uow = self.deliver(order(**overrides), source=Source.HL7, principal="feed:ehr")
        assert uow.subject is not None
        return uow.subject, uow

    def state(self, prescription_id: str) -> str:
        """The stored state of the prescription."""
        return self.store.prescriptions.rows[prescription_id].state

    def billed(self) -> tuple[str, str]:
        """An order whose B1 was sent: (prescription id, exchange id)."""
        pid, received = self.ordered()
        self.follow(received)
        (claim,) = self.store.claims.rows
        return pid, claim

    def paid(self) -> str:
        """An order whose claim the payer paid (waiting for the pharmacist's data verification)."""
        pid, xid = self.billed()
        self.deliver(paid_answer(pid, xid))
        return pid


def paid_answer(prescription_id: str, exchange_id: str, **fields: Any) -> RecordClaimResponse:
    """The payer's approval of a B1."""
    values: dict[str, Any] = dict(
        exchange_id=exchange_id,
        prescription_id=prescription_id,
        fill_number=0,
        attempt=1,
        transaction="B1",
        status="P",
        total_paid=Decimal("12.00"),
        patient_pay=Decimal("5.00"),
        authorization_number="AUTH1",
    )
    return RecordClaimResponse(**{**values, **fields})
