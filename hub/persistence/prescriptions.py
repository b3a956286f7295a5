"""Prescription records: indexed columns for queues and lookups, the aggregate as a JSON document."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import orjson
from sqlalchemy import ColumnElement, Connection, bindparam, func, insert, or_, select, update

from hub.domain.prescription import Prescription
from hub.persistence import deferred
from hub.persistence.tables import counters, patients, prescriptions, rx_number_seq
from hub.persistence.transaction_state import TransactionState

#: states that take a prescription off the patient's medication profile
CLOSED_STATES = ("cancelled", "rejected")

# the hot statements, built once (building a statement costs more Python than executing it)
_NEXT_RX_NUMBER = select(rx_number_seq.next_value())
#: several at once, for a batch of new orders (PostgreSQL)
_NEXT_RX_NUMBERS = select(rx_number_seq.next_value()).select_from(
    func.generate_series(1, bindparam("count")).table_valued("n")
)
_INCREMENT = (
    update(counters)
    .where(counters.c.name == "rx_number")
    .values(value=counters.c.value + 1)
    .returning(counters.c.value)
)
_BY_ID = select(prescriptions).where(prescriptions.c.id == bindparam("row_id")).limit(1)
_BY_CORRELATION = select(prescriptions).where(prescriptions.c.correlation_id == bindparam("correlation_id")).limit(1)
_PROFILE = select(prescriptions.c.id, prescriptions.c.document).where(
    prescriptions.c.patient_id == bindparam("patient_id"),
    prescriptions.c.state.not_in(CLOSED_STATES),
    or_(prescriptions.c.on_profile_until.is_(None), prescriptions.c.on_profile_until >= bindparam("today")),
)
_INSERT = insert(prescriptions)
_QUEUE_KEYS = (
    select(prescriptions.c.id, prescriptions.c.version, prescriptions.c.state)
    .where(prescriptions.c.state.in_(bindparam("states", expanding=True)))
    .order_by(prescriptions.c.updated_at)
    .limit(bindparam("limit"))
)
_BY_IDS = select(prescriptions).where(prescriptions.c.id.in_(bindparam("ids", expanding=True)))
_BY_CORRELATIONS = select(prescriptions).where(
    prescriptions.c.correlation_id.in_(bindparam("correlation_ids", expanding=True))
)
_STATES = select(prescriptions.c.id, prescriptions.c.state, prescriptions.c.correlation_id).where(
    prescriptions.c.id.in_(bindparam("ids", expanding=True))
)
_RECORDED = select(prescriptions.c.correlation_id).where(
    prescriptions.c.correlation_id.in_(bindparam("ids", expanding=True))
)
_RX_NUMBERS = select(prescriptions.c.correlation_id, prescriptions.c.rx_number).where(
    prescriptions.c.correlation_id.in_(bindparam("ids", expanding=True))
)
_SAVE = (
    update(prescriptions)
    .where(prescriptions.c.id == bindparam("row_id"), prescriptions.c.version == bindparam("expected"))
    .values(
        state=bindparam("state"),
        document=bindparam("document"),
        version=bindparam("version"),
        updated_at=bindparam("updated_at"),
        on_profile_until=bindparam("on_profile_until"),
    )
)


@dataclass
class PrescriptionRow:
    """One stored prescription with its optimistic-lock version."""

    id: str
    correlation_id: str
    rx_number: str
    placer_order_number: str
    placer_system: str | None
    source: str
    state: str
    setting: str
    #: the aggregate as stored, JSON text (``load_aggregate`` parses it)
    document_json: str
    version: int
    #: ``PrescriptionRecord.on_profile_until`` of the document (None: on the DUR profile while open)
    on_profile_until: date | None = None

    @property
    def document(self) -> dict[str, Any]:
        """The stored aggregate as plain data (for reports and tests; steps use ``load_aggregate``)."""
        return dict(orjson.loads(self.document_json))


@dataclass
class Prefetched:
    """The rows a batch read ahead (``prefetch``), handed out once each."""

    by_id: dict[str, PrescriptionRow]
    #: None: no prescription had this correlation id when the batch began
    by_correlation: dict[str, PrescriptionRow | None]
    #: Rx numbers drawn for the batch's new orders, in order (PostgreSQL; one left over is a gap)
    rx_numbers: list[str] = field(default_factory=list)
    #: patients of the rows read by id, not yet read: the batch's first patient read reads them all
    #: (hub.persistence.parties.PartyRepository.patient); then their documents until each is handed out
    patient_ids: set[str] = field(default_factory=set)
    patients: dict[str, Any] = field(default_factory=dict)


def prefetch(
    conn: Connection,
    state: TransactionState,
    *,
    ids: Sequence[str] = (),
    correlation_ids: Sequence[str] = (),
    new_orders: int = 0,
) -> None:
    """Read the prescriptions a batch of commands is about in one statement per kind, in its transaction.

    A worker applying 16 commands read 16 rows one SELECT at a time; now ``get`` and ``by_correlation`` hand
    out the row read ahead, once (a second look at the same prescription reads it again, seeing what the
    batch changed).  A row read ahead that another writer changed meanwhile fails the save's version check
    like any stale read, and the batch is retried one message at a time.  ``new_orders``: how many of the
    commands may store a new prescription, whose Rx numbers are drawn together (PostgreSQL; at most one per
    correlation id not on file).  Kept in ``state``, it ends with the transaction.
    """
    ahead = Prefetched({}, {})
    if ids:
        for r in deferred.execute(conn, state, _BY_IDS, {"ids": list(set(ids))}).mappings():
            ahead.by_id[r["id"]] = PrescriptionRepository._row(r)
            if r["patient_id"]:
                ahead.patient_ids.add(r["patient_id"])
    if correlation_ids:
        ahead.by_correlation = dict.fromkeys(correlation_ids)
        for r in deferred.execute(
            conn, state, _BY_CORRELATIONS, {"correlation_ids": list(set(correlation_ids))}
        ).mappings():
            ahead.by_correlation[r["correlation_id"]] = PrescriptionRepository._row(r)
        fresh = min(new_orders, sum(row is None for row in ahead.by_correlation.values()))
        if fresh > 1 and conn.dialect.name == "postgresql":  # new orders: their Rx numbers in one statement
            ahead.rx_numbers = [str(n) for n in conn.execute(_NEXT_RX_NUMBERS, {"count": fresh}).scalars()]
    state.prefetched = ahead


def read_ahead(state: TransactionState | None) -> Prefetched | None:
    """What the transaction's batch read ahead, if it did (for the patient reads of its commands)."""
    return state.prefetched if state is not None else None


class PrescriptionRepository:
    """Reads and writes prescriptions on the unit of work's connection."""

    def __init__(self, conn: Connection, state: TransactionState | None = None) -> None:
        self.conn = conn
        #: the worker transaction's state (writes held back, rows read ahead); None: none of that
        self.state = state

    def next_rx_number(self) -> str:
        """Human-facing Rx number, unique and increasing (gaps allowed).

        PostgreSQL: ``nextval`` of a sequence, which no transaction holds (a batch of new orders draws theirs in
        one statement when it reads ahead; migration 0007 started it after the
        old counter). SQLite: the counter row, updated and read back in one statement in this transaction,
        which already holds the only writer lock.
        """
        if self.conn.dialect.name == "postgresql":
            ahead = read_ahead(self.state)
            if ahead is not None and ahead.rx_numbers:
                return ahead.rx_numbers.pop(0)
            return str(self.conn.execute(_NEXT_RX_NUMBER).scalar_one())
        return str(self._increment(self.conn))

    @staticmethod
    def _increment(conn: Connection) -> int:
        value = conn.execute(_INCREMENT).scalar()
        if value is None:
            conn.execute(insert(counters), dict(name="rx_number", value=1000001))
            return 1000001
        return int(value)

    def get(self, prescription_id: str) -> PrescriptionRow | None:
        """By id (the row its batch read ahead, the first time it is asked for)."""
        ahead = read_ahead(self.state)
        if ahead is not None and prescription_id in ahead.by_id:
            return ahead.by_id.pop(prescription_id)
        found = deferred.execute(self.conn, self.state, _BY_ID, {"row_id": prescription_id}).mappings().first()
        return self._row(found) if found else None

    def by_correlation(self, correlation_id: str) -> PrescriptionRow | None:
        """By the order's correlation id (what a cancel or a later message carries)."""
        ahead = read_ahead(self.state)
        if ahead is not None and correlation_id in ahead.by_correlation:
            return ahead.by_correlation.pop(correlation_id)
        found = (
            deferred.execute(self.conn, self.state, _BY_CORRELATION, {"correlation_id": correlation_id})
            .mappings()
            .first()
        )
        return self._row(found) if found else None

    def by_rx_number(self, rx_number: str) -> PrescriptionRow | None:
        """By the pharmacy's Rx number."""
        return self._one(prescriptions.c.rx_number == rx_number)

    def by_placer(
        self, placer_system: str | None, placer_order_number: str, owner: str | None = None
    ) -> PrescriptionRow | None:
        """By the prescriber's order number; with ``owner``, among that principal's orders only."""
        cond = prescriptions.c.placer_order_number == placer_order_number
        if placer_system is not None:
            cond = cond & (prescriptions.c.placer_system == placer_system)
        if owner is not None:
            cond = cond & (prescriptions.c.owner == owner)
        return self._one(cond)

    def owner_has_patient(self, owner: str, patient_id: str) -> bool:
        """Whether one of this principal's orders is for this patient (a feed may read that patient)."""
        query = (
            select(prescriptions.c.id)
            .where(prescriptions.c.patient_id == patient_id, prescriptions.c.owner == owner)
            .limit(1)
        )
        return deferred.execute(self.conn, self.state, query).first() is not None

    def in_states(self, states: list[str], limit: int = 200) -> list[PrescriptionRow]:
        """A work queue: prescriptions waiting in these states, oldest first."""
        query = (
            select(prescriptions)
            .where(prescriptions.c.state.in_(states))
            .order_by(prescriptions.c.updated_at)
            .limit(limit)
        )
        return [self._row(r) for r in deferred.execute(self.conn, self.state, query).mappings().all()]

    def queue_keys(self, states: list[str], limit: int = 200) -> list[tuple[str, int, str]]:
        """``in_states`` without the documents: (id, version, state) of each waiting prescription, oldest first."""
        rows = deferred.execute(self.conn, self.state, _QUEUE_KEYS, {"states": states, "limit": limit})
        return [(r[0], r[1], r[2]) for r in rows]

    def by_ids(self, ids: list[str]) -> dict[str, PrescriptionRow]:
        """The stored prescriptions among these ids, by id."""
        rows = map(self._row, deferred.execute(self.conn, self.state, _BY_IDS, {"ids": ids}).mappings().all())
        return {row.id: row for row in rows}

    def states_of(self, prescription_ids: list[str]) -> dict[str, tuple[str, str]]:
        """Each prescription's state and correlation id, without its document, in one query; those not stored
        are left out."""
        rows = deferred.execute(self.conn, self.state, _STATES, {"ids": prescription_ids})
        return {str(row_id): (str(state), str(correlation_id)) for row_id, state, correlation_id in rows}

    def recorded(self, correlation_ids: list[str]) -> set[str]:
        """The correlation ids among these that have a stored prescription."""
        return {row[0] for row in deferred.execute(self.conn, self.state, _RECORDED, {"ids": correlation_ids})}

    def rx_numbers(self, correlation_ids: list[str]) -> dict[str, str]:
        """The Rx number of the prescription of each of these correlation ids that has one (dead letters name
        the order they are about by it)."""
        if not correlation_ids:
            return {}
        rows = deferred.execute(self.conn, self.state, _RX_NUMBERS, {"ids": sorted(set(correlation_ids))})
        return {str(correlation_id): str(rx_number) for correlation_id, rx_number in rows}

    def from_message(self, raw_message_ref: str) -> list[PrescriptionRow]:
        """The prescriptions one inbound message created."""
        query = select(prescriptions).where(prescriptions.c.raw_message_ref == raw_message_ref)
        return [self._row(r) for r in deferred.execute(self.conn, self.state, query).mappings().all()]

    def search(
        self,
        *,
        family_name: str | None = None,
        birth_date: date | None = None,
        rx_number: str | None = None,
        placer_order_number: str | None = None,
        limit: int = 100,
    ) -> list[PrescriptionRow]:
        """Prescriptions matching every criterion given, newest first: the patient's family name (any case,
        as stored casefolded) with birth date, the Rx number, the placer order number (any sender)."""
        conds: list[ColumnElement[bool]] = []
        if family_name is not None and birth_date is not None:
            conds.append(
                prescriptions.c.patient_id.in_(
                    select(patients.c.id).where(
                        patients.c.family_name == family_name.casefold(), patients.c.birth_date == birth_date
                    )
                )
            )
        if rx_number:
            conds.append(prescriptions.c.rx_number == rx_number)
        if placer_order_number:
            conds.append(prescriptions.c.placer_order_number == placer_order_number)
        if not conds:
            return []
        query = select(prescriptions).where(*conds).order_by(prescriptions.c.created_at.desc()).limit(limit)
        return [self._row(r) for r in deferred.execute(self.conn, self.state, query).mappings().all()]

    def for_patient(self, patient_id: str) -> list[PrescriptionRow]:
        """Every prescription of a patient (the staff's medication profile; screening reads
        ``profile_documents``)."""
        query = select(prescriptions).where(prescriptions.c.patient_id == patient_id)
        return [self._row(r) for r in deferred.execute(self.conn, self.state, query).mappings().all()]

    def profile_documents(self, patient_id: str, today: date, *, besides: str | None = None) -> list[dict[str, Any]]:
        """The documents of a patient's prescriptions that can matter to screening an order today, for the DUR
        profile: open (not cancelled or rejected), and a fill in progress or a supply not run out before today."""
        rows = deferred.execute(self.conn, self.state, _PROFILE, {"patient_id": patient_id, "today": today}).all()
        return [orjson.loads(r[1]) for r in rows if r[0] != besides]

    def count_by_state(self) -> dict[str, int]:
        """How many prescriptions are in each state."""
        query = select(prescriptions.c.state, func.count()).group_by(prescriptions.c.state)
        return {state: int(n) for state, n in deferred.execute(self.conn, self.state, query).all()}

    def add(
        self,
        row: PrescriptionRow,
        *,
        patient_id: str | None = None,
        raw_message_ref: str | None = None,
        owner: str | None = None,
    ) -> None:
        """Insert a new prescription (at the row's version, 1 for a new one)."""
        ahead = read_ahead(self.state)
        if ahead is not None:  # "no such order" read ahead is no longer true for the rest of the batch
            ahead.by_correlation.pop(row.correlation_id, None)
        now = datetime.now(UTC)
        # held back to the end of a worker's transaction, with the batch's other new orders (one statement)
        deferred.write(
            self.conn,
            self.state,
            _INSERT,
            dict(
                id=row.id,
                correlation_id=row.correlation_id,
                rx_number=row.rx_number,
                placer_order_number=row.placer_order_number,
                placer_system=row.placer_system,
                source=row.source,
                state=row.state,
                setting=row.setting,
                patient_id=patient_id,
                raw_message_ref=raw_message_ref,
                owner=owner,
                document=row.document_json,
                version=row.version,
                created_at=now,
                updated_at=now,
                on_profile_until=row.on_profile_until,
            ),
        )

    def save(self, row: PrescriptionRow) -> None:
        """Update with an optimistic lock: a concurrent writer makes this a transient (retryable) error.

        In a worker's transaction the update is held back to its end with the batch's others (one statement),
        and the lock is checked there: a batch that lost the race is retried one message at a time.
        """
        deferred.write(
            self.conn,
            self.state,
            _SAVE,
            dict(
                row_id=row.id,
                expected=row.version,
                state=row.state,
                document=row.document_json,
                version=row.version + 1,
                updated_at=datetime.now(UTC),
                on_profile_until=row.on_profile_until,
            ),
            must_match=True,
        )
        row.version += 1

    def _one(self, condition: Any) -> PrescriptionRow | None:
        found = (
            deferred.execute(self.conn, self.state, select(prescriptions).where(condition).limit(1)).mappings().first()
        )
        return self._row(found) if found else None

    @staticmethod
    def _row(r: Any) -> PrescriptionRow:
        return PrescriptionRow(
            r["id"],
            r["correlation_id"],
            r["rx_number"],
            r["placer_order_number"],
            r["placer_system"],
            r["source"],
            r["state"],
            r["setting"],
            r["document"],
            r["version"],
            r["on_profile_until"],
        )


def load_aggregate(row: PrescriptionRow) -> Prescription:
    """The domain aggregate stored in a row."""
    return Prescription.model_validate_json(row.document_json)


def store_aggregate(row: PrescriptionRow, rx: Prescription) -> None:
    """Copy the aggregate back into the row, with the columns derived from it (state for the work queues, the
    day it leaves the DUR profile)."""
    row.document_json = rx.model_dump_json()
    row.state = rx.state.value
    row.on_profile_until = rx.on_profile_until()


def new_row(rx: Prescription, correlation_id: str, source: str) -> PrescriptionRow:
    """The row of a prescription not stored yet (version 1), its columns taken from the aggregate."""
    row = PrescriptionRow(
        rx.prescription_id,
        correlation_id,
        rx.rx_number,
        rx.placer_order_number,
        rx.placer_system,
        source,
        "",
        rx.setting.value,
        "",
        1,
    )
    store_aggregate(row, rx)
    return row
