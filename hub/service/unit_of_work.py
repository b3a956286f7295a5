"""What a workflow handler may read and write: the unit of work and its repositories, as protocols.

Handlers see only these; ``hub.persistence.unit_of_work`` implements them on one database transaction, and
``tests/unit/service/fakes.py`` in memory, so a handler's rules are tested without a database or a broker.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from contextlib import AbstractContextManager
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Protocol

from hub.domain.actors import Actor
from hub.domain.events import Event, OrderRefused
from hub.domain.inventory import InventoryItem
from hub.domain.order_parts import CoverageInfo, PatientInfo, PrescriberInfo
from hub.domain.parties import Patient, Prescriber
from hub.domain.patient_identity import Decision, IdentityConflict
from hub.messaging.envelope import Envelope
from hub.persistence.claims import Transmission
from hub.persistence.identity_conflicts import ConflictRecord, Linked
from hub.persistence.outbox_store import OutboxRow
from hub.persistence.parties import PatientMatch
from hub.persistence.prescriptions import PrescriptionRow


class Prescriptions(Protocol):
    """Stored prescriptions, each with its optimistic-lock version."""

    def get(self, prescription_id: str) -> PrescriptionRow | None: ...
    def by_correlation(self, correlation_id: str) -> PrescriptionRow | None: ...
    def by_rx_number(self, rx_number: str) -> PrescriptionRow | None: ...
    def next_rx_number(self) -> str: ...
    def in_states(self, states: list[str], limit: int = 200) -> list[PrescriptionRow]: ...
    def profile_documents(
        self, patient_id: str, today: date, *, besides: str | None = None
    ) -> list[dict[str, Any]]: ...
    def add(
        self,
        row: PrescriptionRow,
        *,
        patient_id: str | None = None,
        raw_message_ref: str | None = None,
        owner: str | None = None,
    ) -> None: ...
    def save(self, row: PrescriptionRow) -> None: ...


class Parties(Protocol):
    """Patients and prescribers, matched or created."""

    def match_patient(self, info: PatientInfo) -> PatientMatch: ...
    def prescriber_for(self, info: PrescriberInfo) -> Prescriber: ...
    def patient(self, patient_id: str) -> Patient | None: ...
    def coverage(self, patient_id: str) -> CoverageInfo | None: ...
    def plans_on_file(self, patient_id: str) -> tuple[CoverageInfo, ...]: ...


class ClaimRecords(Protocol):
    """The hub's ledger of payer traffic, one row per claim transaction (``hub.persistence.claims``)."""

    def get(self, exchange_id: str) -> Transmission | None: ...
    def sent(
        self,
        *,
        exchange_id: str,
        prescription_id: str,
        fill_number: int,
        attempt: int,
        transaction: str,
        purpose: str,
        resends: int,
    ) -> None: ...
    def answered(self, exchange_id: str, status: str, reject_codes: tuple[str, ...] = ()) -> None: ...
    def retry_at(self, exchange_id: str, at: datetime | None) -> None: ...
    def answer(self, exchange_id: str, status: str, reject_codes: tuple[str, ...] = ()) -> Transmission | None: ...
    def never_left(self, exchange_id: str) -> bool: ...
    def note(
        self,
        exchange_id: str,
        event: str,
        *,
        message_id: str | None = None,
        switch: str | None = None,
        status: str | None = None,
        detail: str | None = None,
    ) -> None: ...


class Stock(Protocol):
    """Inventory lots, one NDC at a time."""

    def lots(self, ndc: str, *, for_update: bool = False) -> list[InventoryItem]: ...
    def save(self, items: Sequence[InventoryItem], *, before: Sequence[InventoryItem] = ()) -> None: ...
    def receive(self, ndc: str, lot: str, expiry: date, quantity: Decimal) -> None: ...


class RefusedOrderLog(Protocol):
    """Orders a door accepted that intake then refused."""

    def add(self, event: OrderRefused, *, correlation_id: str, refused_at: datetime) -> None: ...


class IdentityConflictLog(Protocol):
    """Identity conflicts intake opens for a technician."""

    def open(self, conflict: IdentityConflict, *, new_patient_id: str, source: str, principal: str | None) -> str: ...
    def decide(self, conflict_id: str, decision: Decision, *, by: str, reason: str) -> ConflictRecord: ...
    def link(self, new_patient_id: str, existing_patient_id: str) -> Linked: ...


class StaffDirectory(Protocol):
    """Staff users as on record (role, licence, break-glass grants)."""

    def on_record(self, user_id: str, now: datetime) -> Actor | None: ...


class UnitOfWork(Protocol):
    """One command's reads and writes, committed together with its events and next commands, or not at all."""

    @property
    def prescriptions(self) -> Prescriptions: ...
    @property
    def parties(self) -> Parties: ...
    @property
    def claims(self) -> ClaimRecords: ...
    @property
    def stock(self) -> Stock: ...
    @property
    def refused_orders(self) -> RefusedOrderLog: ...
    @property
    def identity_conflicts(self) -> IdentityConflictLog: ...
    @property
    def actors(self) -> StaffDirectory: ...

    #: lots of an NDC the transaction read for update (and changed), shared by its commands
    shelves: dict[str, list[InventoryItem]]
    #: what the transaction read that none of its commands changes (the users behind them)
    memo: dict[Any, Any]
    #: the prescription the command made (a verbal order's), for its outcome
    subject: str | None

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
    ) -> None: ...
    def refuse(self, reason: str) -> None: ...
    def already_queued(self, row_id: str) -> bool: ...
    def add_event(
        self,
        event: Event,
        *,
        correlation_id: uuid.UUID | str,
        patient_id: str | None = None,
        change: str | None = None,
    ) -> str: ...
    def add_command(self, envelope: Envelope) -> None: ...
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
    ) -> None: ...


class MessageUnitOfWork(UnitOfWork, Protocol):
    """A unit of work as the bus runs it: the idempotency mark and the outcome besides the handler's writes."""

    def claim_message(self, consumer: str, message_id: uuid.UUID | str) -> bool: ...
    def record_outcome(self) -> None: ...
    @property
    def written(self) -> list[OutboxRow]: ...


class Transaction(Protocol):
    """One transaction shared by the units of work of a batch of commands."""

    def claim(self, consumer: str, message_ids: Sequence[str]) -> set[str]: ...
    def begin(self, causation: Envelope | None = None, actor: str | None = None) -> MessageUnitOfWork: ...
    def prefetch(
        self,
        *,
        ids: Sequence[str] = (),
        correlation_ids: Sequence[str] = (),
        new_orders: int = 0,
        patients: Sequence[PatientInfo] = (),
    ) -> None: ...
    @property
    def written(self) -> list[OutboxRow]: ...


class Transactions(Protocol):
    """Where the bus opens its transactions: one per message, or one per batch."""

    def one(self, causation: Envelope) -> AbstractContextManager[MessageUnitOfWork]: ...
    def batch(self) -> AbstractContextManager[Transaction]: ...
