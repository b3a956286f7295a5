"""In-memory stand-ins for the service layer's ports: the unit of work with its repositories, the bus's
transactions and the publisher it hands committed rows to, and the payer codec.

Each implements the protocol of ``hub.service.unit_of_work`` (or ``hub.service.ports``), so a handler runs
against it exactly as against the database, and a test reads what it did from plain lists and dicts.
"""

from __future__ import annotations

import dataclasses
import itertools
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from hub.domain.actors import Actor
from hub.domain.claim_exchange import ClaimRequestData, EncodedClaim
from hub.domain.eligibility import EligibilityRequestData
from hub.domain.events import Event, OrderRefused
from hub.domain.inventory import InventoryItem
from hub.domain.order_parts import CoverageInfo, PatientInfo, PrescriberInfo
from hub.domain.parties import Patient, Prescriber
from hub.domain.patient_identity import Decision, IdentityConflict
from hub.errors import TransientError
from hub.messaging.envelope import Envelope
from hub.persistence.claims import Transmission
from hub.persistence.identity_conflicts import ConflictRecord, Linked
from hub.persistence.parties import PatientMatch
from hub.persistence.prescriptions import CLOSED_STATES, PrescriptionRow, load_aggregate
from hub.service.unit_of_work import MessageUnitOfWork, Transaction, UnitOfWork


class FakePrescriptions:
    """Prescriptions in a dict; each read hands out a copy, each save checks and bumps the version."""

    def __init__(self) -> None:
        self.rows: dict[str, PrescriptionRow] = {}
        self.patient_of: dict[str, str | None] = {}
        self._numbers = itertools.count(7000001)

    def put(self, row: PrescriptionRow, patient_id: str | None = None) -> None:
        """Store a prescription as if committed earlier (a test's starting point)."""
        self.rows[row.id] = dataclasses.replace(row)
        self.patient_of[row.id] = patient_id

    def get(self, prescription_id: str) -> PrescriptionRow | None:
        found = self.rows.get(prescription_id)
        return dataclasses.replace(found) if found else None

    def by_correlation(self, correlation_id: str) -> PrescriptionRow | None:
        return self._first(lambda r: r.correlation_id == correlation_id)

    def by_rx_number(self, rx_number: str) -> PrescriptionRow | None:
        return self._first(lambda r: r.rx_number == rx_number)

    def next_rx_number(self) -> str:
        return str(next(self._numbers))

    def in_states(self, states: list[str], limit: int = 200) -> list[PrescriptionRow]:
        return [dataclasses.replace(r) for r in self.rows.values() if r.state in states][:limit]

    def profile_documents(self, patient_id: str, today: date, *, besides: str | None = None) -> list[dict[str, Any]]:
        return [
            r.document
            for r in self.rows.values()
            if self.patient_of.get(r.id) == patient_id
            and r.id != besides
            and r.state not in CLOSED_STATES
            and (r.on_profile_until is None or r.on_profile_until >= today)
        ]

    def add(
        self,
        row: PrescriptionRow,
        *,
        patient_id: str | None = None,
        raw_message_ref: str | None = None,
        owner: str | None = None,
    ) -> None:
        self.put(row, patient_id)

    def save(self, row: PrescriptionRow) -> None:
        stored = self.rows.get(row.id)
        if stored is None or stored.version != row.version:
            raise TransientError("1 of 1 row(s) changed concurrently; retry")
        row.version += 1
        self.rows[row.id] = dataclasses.replace(row)

    def aggregate(self, prescription_id: str) -> Any:
        """The stored aggregate (what the next step would load)."""
        return load_aggregate(self.rows[prescription_id])

    def _first(self, test: Any) -> PrescriptionRow | None:
        found = next((r for r in self.rows.values() if test(r)), None)
        return dataclasses.replace(found) if found else None


class FakeParties:
    """Patients matched by a shared identifier, else created; prescribers created once per NPI."""

    def __init__(self) -> None:
        self.patients: dict[str, Patient] = {}
        self.coverages: dict[str, CoverageInfo] = {}
        #: plans on file in billing order (``patient_coverages``)
        self.plans: dict[str, tuple[CoverageInfo, ...]] = {}
        self.prescribers: dict[str, Prescriber] = {}

    def match_patient(self, info: PatientInfo) -> PatientMatch:
        wanted = set(info.identifiers)
        found = next((p for p in self.patients.values() if wanted & set(p.info.identifiers)), None)
        if found is not None:
            return PatientMatch(found, self.coverages.get(found.patient_id), new=False)
        patient = Patient.new(str(uuid.uuid4()), info)
        self.patients[patient.patient_id] = patient
        return PatientMatch(patient, None, new=True)

    def prescriber_for(self, info: PrescriberInfo) -> Prescriber:
        key = info.npi or info.family_name or ""
        if key not in self.prescribers:
            self.prescribers[key] = Prescriber.new(str(uuid.uuid4()), info)
        return self.prescribers[key]

    def patient(self, patient_id: str) -> Patient | None:
        return self.patients.get(patient_id)

    def coverage(self, patient_id: str) -> CoverageInfo | None:
        return self.coverages.get(patient_id)

    def plans_on_file(self, patient_id: str) -> tuple[CoverageInfo, ...]:
        return self.plans.get(patient_id, ())


class FakeClaimLedger:
    """Claim transmissions by exchange id, and the wire notes."""

    def __init__(self) -> None:
        self.rows: dict[str, Transmission] = {}
        #: exchange ids the broker refused (the claim never left the outbox)
        self.refused: set[str] = set()
        self.notes: list[tuple[str, str, str | None]] = []
        #: when each transmission is to be sent again (the claim sweeper's retries)
        self.retries: dict[str, datetime | None] = {}

    def get(self, exchange_id: str) -> Transmission | None:
        return self.rows.get(exchange_id)

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
    ) -> None:
        row = Transmission(
            exchange_id, prescription_id, fill_number, attempt, transaction, purpose, resends, False, None
        )
        self.rows[exchange_id] = row
        self.retries.pop(exchange_id, None)

    def retry_at(self, exchange_id: str, at: datetime | None) -> None:
        self.retries[exchange_id] = at

    def answered(self, exchange_id: str, status: str, reject_codes: tuple[str, ...] = ()) -> None:
        if exchange_id in self.rows:
            self.rows[exchange_id] = dataclasses.replace(self.rows[exchange_id], answered=True, status=status)

    def answer(self, exchange_id: str, status: str, reject_codes: tuple[str, ...] = ()) -> Transmission | None:
        known = self.rows.get(exchange_id)
        if known is None or known.answered:
            return None
        self.answered(exchange_id, status, reject_codes)
        return known

    def never_left(self, exchange_id: str) -> bool:
        return exchange_id in self.refused

    def note(
        self,
        exchange_id: str,
        event: str,
        *,
        message_id: str | None = None,
        switch: str | None = None,
        status: str | None = None,
        detail: str | None = None,
    ) -> None:
        self.notes.append((exchange_id, event, status))


class FakeStock:
    """Lots by (NDC, lot)."""

    def __init__(self, items: Sequence[InventoryItem] = ()) -> None:
        self.items: dict[tuple[str, str], InventoryItem] = {(i.ndc, i.lot): i for i in items}

    def lots(self, ndc: str, *, for_update: bool = False) -> list[InventoryItem]:
        return sorted((i for i in self.items.values() if i.ndc == ndc and i.on_hand > 0), key=lambda i: i.lot)

    def save(self, items: Sequence[InventoryItem], *, before: Sequence[InventoryItem] = ()) -> None:
        for item in items:
            self.items[(item.ndc, item.lot)] = item

    def receive(self, ndc: str, lot: str, expiry: date, quantity: Decimal) -> None:
        known = self.items.get((ndc, lot))
        on_hand = quantity + (known.on_hand if known else Decimal("0"))
        reserved = known.reserved if known else Decimal("0")
        self.items[(ndc, lot)] = InventoryItem(ndc=ndc, lot=lot, expiry=expiry, on_hand=on_hand, reserved=reserved)


class FakeRefusedOrders:
    """Refused orders, in the order recorded."""

    def __init__(self) -> None:
        self.refused: list[OrderRefused] = []

    def add(self, event: OrderRefused, *, correlation_id: str, refused_at: datetime) -> None:
        self.refused.append(event)


class FakeIdentityConflicts:
    """Identity conflicts opened (deciding them is the staff API's, tested against the database)."""

    def __init__(self) -> None:
        self.opened: list[IdentityConflict] = []

    def open(self, conflict: IdentityConflict, *, new_patient_id: str, source: str, principal: str | None) -> str:
        self.opened.append(conflict)
        return f"conflict-{len(self.opened)}"

    def decide(self, conflict_id: str, decision: Decision, *, by: str, reason: str) -> ConflictRecord:
        raise NotImplementedError("no workflow handler decides a conflict")

    def link(self, new_patient_id: str, existing_patient_id: str) -> Linked:
        raise NotImplementedError("no workflow handler links profiles")


class FakeStaff:
    """Staff on record: user id -> actor (absent: unknown or revoked)."""

    def __init__(self, *actors: Actor) -> None:
        self.actors = {a.user_id: a for a in actors}
        self.reads = 0

    def on_record(self, user_id: str, now: datetime) -> Actor | None:
        self.reads += 1
        return self.actors.get(user_id)


class FakeStore:
    """What the fake units of work read and write: the committed state of the pharmacy."""

    def __init__(self) -> None:
        self.prescriptions = FakePrescriptions()
        self.parties = FakeParties()
        self.claims = FakeClaimLedger()
        self.stock = FakeStock()
        self.refused_orders = FakeRefusedOrders()
        self.identity_conflicts = FakeIdentityConflicts()
        self.actors = FakeStaff()
        #: (consumer, message id) applied, as committed
        self.marks: set[tuple[str, str]] = set()
        #: ids of the outbox rows (events, commands) queued so far
        self.outbox_ids: set[str] = set()


class FakeUnitOfWork:
    """A unit of work over a ``FakeStore``; what it queues is kept in lists for the test to read."""

    def __init__(self, store: FakeStore | None = None, causation: Envelope | None = None) -> None:
        self.store = store or FakeStore()
        self.causation = causation
        s = self.store
        self.prescriptions, self.parties, self.claims, self.stock = s.prescriptions, s.parties, s.claims, s.stock
        self.refused_orders, self.identity_conflicts, self.actors = s.refused_orders, s.identity_conflicts, s.actors
        self.shelves: dict[str, list[InventoryItem]] = {}
        self.memo: dict[Any, Any] = {}
        self.subject: str | None = None
        self.refusal: str | None = None
        self.audits: list[dict[str, Any]] = []
        self.events: list[Event] = []
        self.event_ids: list[str] = []
        self.commands: list[Envelope] = []
        self.raw: list[dict[str, Any]] = []
        self.outcomes: list[str | None] = []
        self.marks: set[tuple[str, str]] = set()

    def audit(self, **entry: Any) -> None:
        self.audits.append(entry)

    def refuse(self, reason: str) -> None:
        self.refusal = reason

    def already_queued(self, row_id: str) -> bool:
        return row_id in self.store.outbox_ids

    def add_event(
        self, event: Event, *, correlation_id: uuid.UUID | str, patient_id: str | None = None, change: str | None = None
    ) -> str:
        eid = change or str(uuid.uuid4())
        if not self.already_queued(eid):
            self.events.append(event)
            self.event_ids.append(eid)
            self.store.outbox_ids.add(eid)
        return eid

    def add_command(self, envelope: Envelope) -> None:
        self.commands.append(envelope)
        self.store.outbox_ids.add(str(envelope.message_id))

    def add_raw(self, **row: Any) -> None:
        self.raw.append(row)

    def claim_message(self, consumer: str, message_id: uuid.UUID | str) -> bool:
        key = (consumer, str(message_id))
        if key in self.store.marks or key in self.marks:
            return False
        self.marks.add(key)
        return True

    def record_outcome(self) -> None:
        self.outcomes.append(self.refusal)

    @property
    def written(self) -> list[Any]:
        """What the relay would publish: the events' names and the commands' types."""
        return [e.name for e in self.events] + [c.type for c in self.commands]

    # the rest is the test's reading aid
    def event_names(self) -> list[str]:
        """The names of the events queued, in order."""
        return [e.name for e in self.events]

    def command_types(self) -> list[str]:
        """The types of the commands queued, in order."""
        return [c.type for c in self.commands]


class FakeTransaction:
    """One fake transaction for a batch: its units of work share the store; marks commit at the end."""

    def __init__(self, store: FakeStore) -> None:
        self.store = store
        self.units: list[FakeUnitOfWork] = []
        self.prefetched: dict[str, Any] = {}

    def claim(self, consumer: str, message_ids: Sequence[str]) -> set[str]:
        fresh = {m for m in message_ids if (consumer, m) not in self.store.marks}
        self.pending = {(consumer, m) for m in fresh}
        return fresh

    def begin(self, causation: Envelope | None = None, actor: str | None = None) -> FakeUnitOfWork:
        unit = FakeUnitOfWork(self.store, causation)
        self.units.append(unit)
        return unit

    def prefetch(
        self,
        *,
        ids: Sequence[str] = (),
        correlation_ids: Sequence[str] = (),
        new_orders: int = 0,
        patients: Sequence[PatientInfo] = (),
    ) -> None:
        self.prefetched = {"ids": list(ids), "correlation_ids": list(correlation_ids), "new_orders": new_orders}

    @property
    def written(self) -> list[Any]:
        return [row for unit in self.units for row in unit.written]

    def commit(self) -> None:
        self.store.marks |= getattr(self, "pending", set())
        for unit in self.units:
            self.store.marks |= unit.marks


class FakeTransactions:
    """The bus's transactions over one ``FakeStore``: the idempotency marks of a transaction that raised are
    dropped, as a rollback drops them (the store's repositories are not rolled back: the bus tests' handlers
    write nothing else)."""

    def __init__(self, store: FakeStore | None = None) -> None:
        self.store = store or FakeStore()
        self.committed: list[FakeTransaction] = []
        self.rolled_back = 0

    @contextmanager
    def one(self, causation: Envelope) -> Iterator[MessageUnitOfWork]:
        with self.batch() as transaction:
            yield transaction.begin(causation)

    @contextmanager
    def batch(self) -> Iterator[Transaction]:
        transaction = FakeTransaction(self.store)
        try:
            yield transaction
        except BaseException:
            self.rolled_back += 1
            raise
        transaction.commit()
        self.committed.append(transaction)


class FakePublisher:
    """The relay the bus hands each commit's rows to (``MessageBus.after_commit``)."""

    def __init__(self) -> None:
        self.handed: list[list[Any]] = []

    def hand_over(self, rows: Sequence[Any]) -> None:
        self.handed.append(list(rows))


class FakeClaimCodec:
    """A payer codec (``hub.service.ports.ClaimCodec``) that names what it encoded instead of building D.0."""

    def __init__(self) -> None:
        self.encoded: list[ClaimRequestData | EligibilityRequestData] = []

    def encode(self, request: ClaimRequestData) -> EncodedClaim:
        self.encoded.append(request)
        return EncodedClaim(routing_key=f"{request.bin}.{request.pcn or '-'}", body=request.exchange_id.encode())

    def encode_eligibility(self, request: EligibilityRequestData) -> EncodedClaim:
        self.encoded.append(request)
        return EncodedClaim(routing_key=f"{request.bin}.{request.pcn or '-'}", body=request.exchange_id.encode())


def unit_of_work(store: FakeStore | None = None) -> UnitOfWork:
    """A fake unit of work typed as the protocol (mypy checks the fake implements it)."""
    return FakeUnitOfWork(store)
