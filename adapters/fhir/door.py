"""What the FHIR door does with accepted content: dedupe each order, publish durably, then answer.

The promise (as for HL7 ACKs): 201 is answered only after the broker confirmed every command of the
request. A broker that refuses raises ``InfrastructureError`` before anything is recorded, so the client
gets 503 and resends; a resend of an order already accepted gets 200 and the order as it stands now.

Dedupe, publish and record take the one door pipeline (``hub.service.door_pipeline``), over the process's
``DedupeJournal`` when the door is given one, else over the ``InboundLog`` on worker threads; this module
says what a FHIR order's key is and what its answers are.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from adapters.fhir.conditional import IdentifierToken
from adapters.fhir.fhir_views_from_hub import accepted_snapshot, prescription_snapshot, request_id
from adapters.fhir.json_body import fhir_json
from adapters.fhir.orders import DOOR, Order, placer_key
from adapters.fhir.parsing import parse_resource
from adapters.fhir.resends import check_resend, reused, same_order
from adapters.fhir.stamps import stamped
from adapters.fhir.views import medication_request_view
from hub.domain.commands import ReceivePrescription
from hub.domain.parties import Patient
from hub.domain.prescription import Prescription
from hub.domain.refused_orders import RefusedOrder
from hub.errors import ControlIdInUse, InboundMessageError
from hub.messaging.envelope import order_correlation_id
from hub.service.door_pipeline import DoorPipeline, Seen, Verdict
from hub.service.inbound_entry import InboundEntry
from hub.service.log_journal import LogJournal
from hub.service.ports import CommandSink, DedupeJournal, InboundLog, InboundRecord, PrescriptionQueries


@dataclass(frozen=True)
class Known:
    """An order the hub already has: its MedicationRequest id and the resource to answer with."""

    resource_id: str
    resource: dict[str, Any]

    @property
    def location(self) -> str:
        """Relative URL of its MedicationRequest."""
        return f"MedicationRequest/{self.resource_id}"


def submitted(resource: dict[str, Any], order: Order, now: datetime) -> dict[str, Any]:
    """The resource as the client sent it, with the id the server assigned (R4 create ignores a client id)."""
    return stamped({**resource, "id": order.resource_id}, now)


def accepted(resource: dict[str, Any], order: Order, now: datetime) -> dict[str, Any]:
    """What the answer to an accepted order carries: a new order as the hub holds it (the client's contained
    resources and Bundle references read into the order, its patient named until a worker matches a profile);
    a cancellation as it was sent."""
    command = order.command
    if isinstance(command, ReceivePrescription):
        return medication_request_view(accepted_snapshot(command, order.resource_id, now))
    return submitted(resource, order, now)


def utc_now() -> datetime:
    """The door's clock."""
    return datetime.now(UTC)


class RecordedOrders(Protocol):
    """The lookup the door makes before every publish, answered without a thread of its own per call."""

    async def prescription_by_correlation(self, correlation_id: str) -> Prescription | None:
        """The recorded order with this correlation id, or None."""


class FhirDoor:
    """Dedupe, publish and record for every FHIR write endpoint, through the one door pipeline."""

    def __init__(
        self,
        sink: CommandSink,
        inbound: InboundLog,
        queries: PrescriptionQueries,
        journal: DedupeJournal | None = None,
        recorded: RecordedOrders | None = None,
    ) -> None:
        self._queries, self._recorded_orders = queries, recorded
        self._pipeline = DoorPipeline(journal if journal is not None else LogJournal(inbound), sink)

    async def prescription(
        self, resource_id: str, scope: str | None, *, by_correlation_only: bool = False
    ) -> Prescription | None:
        """A recorded order by MedicationRequest id (correlation id), or by the hub's own prescription id.

        ``scope``: the principal whose orders alone may be read (None: staff, every order).
        """
        rx = await asyncio.to_thread(self._queries.prescription_by_correlation, resource_id)
        if rx is None and not by_correlation_only:
            rx = await asyncio.to_thread(self._queries.prescription, resource_id)
        return rx if rx is not None and (scope is None or rx.owner == scope) else None

    async def patient(self, patient_id: str, scope: str | None) -> Patient | None:
        """A patient profile (``scope``: only a patient of that principal's orders)."""
        return await asyncio.to_thread(self._queries.patient, patient_id, scope)

    async def refusals(self, resource_id: str, scope: str | None) -> list[RefusedOrder]:
        """The refusals of the order a MedicationRequest id names (``scope``: that principal's orders only)."""
        return await asyncio.to_thread(self._queries.refused_orders, resource_id, scope)

    async def submitted(self, refusal: RefusedOrder) -> dict[str, Any] | None:
        """The MedicationRequest a refused order was submitted as, when it came through this door."""
        if refusal.owner is None:
            return None
        key = placer_key(refusal.placer_system, refusal.placer_order_number)
        found = _answered(refusal.correlation_id, await self.recorded(refusal.owner, key))
        return found.resource if found is not None else None

    async def search(self, token: IdentifierToken, scope: str) -> Known | None:
        """The order of this principal an identifier search (If-None-Exist) finds, recorded by a worker or not."""
        if token.system is None:
            rx = await asyncio.to_thread(self._queries.prescription_by_placer, None, token.value, scope)
            return _known(rx) if rx else None
        return await self._exact(token.system, token.value, "", owner=scope)

    async def sent_by(self, order: Order, sender: str) -> bool:
        """Whether this sender sent the order a cancellation names: accepted (its dedupe record) or recorded."""
        command = order.command
        if await self.recorded(sender, placer_key(command.placer_system, command.placer_order_number)) is not None:
            return True
        return await self._by_correlation(order.resource_id) is not None

    async def known(self, order: Order, sender: str) -> Known | None:
        """The earlier acceptance of this order: its current view once recorded, else the first answer.

        Raises ``ControlIdReused`` when the message accepted under its identifier holds another order."""
        if order.is_cancel:
            record = await self.recorded(sender, order.key)
            check_resend(order, record)
            return _answered(order.resource_id, record)
        command = order.command
        key = placer_key(command.placer_system, command.placer_order_number)
        rx, record = await self._both(order.resource_id, sender, key)
        check_resend(order, record)
        return _known(rx) if rx is not None else _answered(order.resource_id, record)

    async def original(self, order: Order, sender: str) -> Known | None:
        """The order a cancellation names, as ``known`` finds a new order: recorded, or its first answer."""
        command = order.command
        return await self._exact(
            command.placer_system, command.placer_order_number, sender, order.resource_id, owner=order.owner
        )

    async def _exact(
        self, system: str | None, value: str, sender: str, correlation: str | None = None, *, owner: str
    ) -> Known | None:
        correlation = correlation or str(order_correlation_id(system, value, owner=owner))
        rx, record = await self._both(correlation, sender, placer_key(system, value))
        return _known(rx) if rx is not None else _answered(correlation, record)

    async def _both(self, correlation: str, sender: str, key: str) -> tuple[Prescription | None, InboundRecord | None]:
        """The recorded order and the sender's dedupe record of its key (none without a sender)."""
        if not sender:
            return await self._by_correlation(correlation), None
        # both reads at once: for a new order (the usual case) both find nothing
        rx, record = await asyncio.gather(self._by_correlation(correlation), self.recorded(sender, key))
        return rx, record

    async def _by_correlation(self, correlation: str) -> Prescription | None:
        if self._recorded_orders is not None:
            return await self._recorded_orders.prescription_by_correlation(correlation)
        return await asyncio.to_thread(self._queries.prescription_by_correlation, correlation)

    async def accept(
        self, sender: str, orders: list[tuple[Order, dict[str, Any]]], raw: bytes, message_type: str
    ) -> list[bytes]:
        """Publish every order in one confirmed batch, then record each with its answer for resends.

        Returns each order's answer as the JSON it was recorded with, for the caller to send as it is.
        """
        if not orders:
            return []
        answers = [fhir_json(answer) for _, answer in orders]
        record_ids = {order.key: order.record_id(sender) for order, _ in orders}
        envelopes = {order.key: order.envelope(sender, record_ids[order.key]) for order, _ in orders}
        try:
            await self._pipeline.publish(list(envelopes.values()))
        except BaseException:  # not accepted: the keys claimed go back, a resend is read afresh
            for order, _ in orders:
                self._pipeline.release_key(DOOR, sender, order.key)
            raise
        # the records are written beside the 201, not before it: the orders are already durable and their
        # command ids derive from sender and identifier, so a resend racing its record is applied once
        for (order, _), answer in zip(orders, answers, strict=True):
            command_ids = [str(envelopes[order.key].message_id)]
            self.record(sender, order.key, message_type, raw, answer, command_ids, record_ids[order.key])
        return answers

    async def claim(self, sender: str, order: Order, raw: bytes, message_type: str) -> Known | None:
        """Take the order's key before publishing, so of two requests racing with one identifier one wins:
        None when this one holds it, the first answer when an identical accepted one does (waiting a moment for
        one still being accepted); ``ControlIdInUse`` while that one is still unanswered (the client resends
        and reads it); ``ControlIdReused`` when the one holding it is another order."""
        return _holding(order, await self._claim(sender, order, raw, message_type))

    async def _claim(self, sender: str, order: Order, raw: bytes, message_type: str) -> Verdict:
        entry = InboundEntry(DOOR, sender, order.key, message_type, raw, record_id=order.record_id(sender))
        return await self._pipeline.settle(entry, lambda held: same_order(order, held), None)

    async def claim_all(self, sender: str, orders: list[Order], raw: bytes, message_type: str) -> dict[str, Known]:
        """``claim`` for the orders of one all-or-nothing request at once: the first answers of those an
        identical accepted message holds, by key. When one cannot be taken, the keys taken go back and it raises:
        none of the request is accepted."""
        verdicts = await asyncio.gather(*(self._claim(sender, o, raw, message_type) for o in orders))
        try:
            held = {o.key: _holding(o, v) for o, v in zip(orders, verdicts, strict=True)}
        except BaseException:
            for order, verdict in zip(orders, verdicts, strict=True):
                if verdict.claimed:
                    self._pipeline.release_key(DOOR, sender, order.key)
            raise
        return {key: known for key, known in held.items() if known is not None}

    def record(
        self,
        sender: str,
        control_id: str,
        message_type: str,
        raw: bytes,
        answer: bytes,
        command_ids: list[str],
        record_id: str | None = None,
    ) -> None:
        """Record an accepted message and its answer beside the answer."""
        self._pipeline.record(
            InboundEntry(DOOR, sender, control_id, message_type, raw, "accepted", answer, command_ids, record_id)
        )

    async def recorded(self, sender: str, control_id: str) -> InboundRecord | None:
        """The record of a message this sender sent under ``control_id`` (None when unknown or unreadable)."""
        return await self._pipeline.find(DOOR, sender, control_id)

    async def drain(self) -> None:
        """Wait for dedupe records still being written (tests; shutdown)."""
        await self._pipeline.drain()


def _holding(order: Order, verdict: Verdict) -> Known | None:
    """What a claim's verdict means for an order: None (this one goes on), or the first answer, or an error."""
    if verdict.seen is Seen.NEW:
        return None
    if verdict.seen is Seen.REUSED:
        raise reused(order)
    known = _answered(order.resource_id, verdict.holder)
    if known is None:
        raise ControlIdInUse(f"an order with identifier {order.key} is being accepted right now; resend to read it")
    return known


def _answered(resource_id: str, record: InboundRecord | None) -> Known | None:
    """The first answer given to an order accepted earlier, from its dedupe record."""
    if record is None or record.answer is None:
        return None
    try:
        return Known(resource_id, parse_resource(record.answer))
    except InboundMessageError:
        return None


def _known(rx: Prescription) -> Known:
    return Known(request_id(rx), medication_request_view(prescription_snapshot(rx)))
