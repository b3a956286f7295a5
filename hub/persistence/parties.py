"""Patients and prescribers: candidates for matching an inbound order, and their profiles."""

from __future__ import annotations

import functools
import threading
import uuid
import weakref
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Connection, Date, Engine, String, bindparam, insert, null, or_, select, type_coerce, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from hub.domain.order_parts import CoverageInfo, Identifier, PatientInfo, PrescriberInfo
from hub.domain.parties import Patient, Prescriber, identifiable, match_patient, match_prescriber
from hub.domain.patient_identity import DemographicChange, IdentityConflict, demographic_changes
from hub.errors import TransientError
from hub.persistence import deferred
from hub.persistence.patient_coverages import PatientCoverages
from hub.persistence.prescriptions import read_ahead
from hub.persistence.tables import patient_identifiers, patients, prescribers
from hub.persistence.transaction_state import TransactionState

_PATIENT = select(patients.c.document).where(patients.c.id == bindparam("patient_id"))
_PATIENTS = select(patients.c.id, patients.c.document).where(
    patients.c.id.in_(bindparam("patient_ids", expanding=True))
)

#: per engine: prescribers found by NPI (rows are written once and never updated or deleted)
_PRESCRIBERS: weakref.WeakKeyDictionary[Engine, dict[str, Prescriber]] = weakref.WeakKeyDictionary()
_PRESCRIBERS_LOCK = threading.Lock()


def _identifier_keys(identifiers: tuple[Identifier, ...]) -> list[tuple[str, str]]:
    """The patient_identifiers keys of a profile's identifiers, sorted."""
    return sorted({(ident.system or "", ident.value.strip()) for ident in identifiers})


#: never a profile a technician linked into another meanwhile (the order is retried and finds the other); the
#: name and birth date columns follow the document (an order may change them: name candidates are found by them)
_UPDATE_PATIENT = (
    update(patients)
    .where(patients.c.id == bindparam("patient_id"), patients.c.merged_into.is_(None))
    .values(document=bindparam("document"), family_name=bindparam("family_name"), birth_date=bindparam("birth_date"))
)
_NEW_PATIENT = (
    insert(patients)
    .values(
        id=bindparam("id"),
        family_name=bindparam("family_name"),
        birth_date=bindparam("birth_date"),
        document=bindparam("document"),
        created_at=bindparam("created_at"),
    )
    .returning(patients.c.id)
    .cte("new_patient")
)
#: PostgreSQL: a new patient and its one identifier (a data-modifying CTE; SQLite has none)
_NEW_PATIENT_WITH_IDENTIFIER = (
    pg_insert(patient_identifiers)
    .from_select(
        ["system", "value", "patient_id"],
        select(bindparam("system", type_=String), bindparam("value", type_=String), _NEW_PATIENT.c.id),
    )
    .on_conflict_do_nothing()
)
_INSERT_PATIENT = insert(patients)
#: per dialect: INSERT ... ON CONFLICT DO NOTHING into patient_identifiers
_INDEX_IDENTIFIER: dict[str, Any] = {
    "postgresql": pg_insert(patient_identifiers).on_conflict_do_nothing(),
    "sqlite": sqlite_insert(patient_identifiers).on_conflict_do_nothing(),
}
_PRESCRIBER_COLUMNS = select(prescribers.c.npi, prescribers.c.document)
#: (has NPI, has family name) -> the prescriber candidates query (None: nothing to look by)
_PRESCRIBERS_BY: dict[tuple[bool, bool], Any] = {
    (True, True): _PRESCRIBER_COLUMNS.where(
        or_(prescribers.c.npi == bindparam("npi"), prescribers.c.family_name == bindparam("family_name"))
    ),
    (True, False): _PRESCRIBER_COLUMNS.where(prescribers.c.npi == bindparam("npi")),
    (False, True): _PRESCRIBER_COLUMNS.where(prescribers.c.family_name == bindparam("family_name")),
    (False, False): None,
}


def _name_key(info: PatientInfo) -> tuple[str, date] | None:
    """The (family name, birth date) a profile is found by when no identifier matches, as the columns hold it."""
    if info.family_name and info.birth_date:
        return info.family_name.casefold(), info.birth_date
    return None


def _name_columns(info: PatientInfo) -> dict[str, Any]:
    """The patients columns a profile is found by name and birth date with (``_name_key``)."""
    return {"family_name": (info.family_name or "").casefold() or None, "birth_date": info.birth_date}


@functools.cache
def _candidates_query(identifiers: int, names: int) -> Any:
    """Candidates of one order or of several at once: each row says which identifier or which name found it.

    Identifiers as OR-ed equalities: SQLite plans a row-value IN list of two or more as a scan of the whole
    table (EXPLAIN QUERY PLAN), equalities on the unique index never.
    """
    c = patient_identifiers.c
    current = patients.c.merged_into.is_(None)  # a profile linked into another is never matched again
    parts = []
    if identifiers:
        parts.append(
            select(
                patients.c.id,
                patients.c.document,
                patients.c.coverage,
                c.system,
                c.value,
                null().label("family_name"),
                # typed: a UNION's rows are read as its first part's types (SQLite's dates are text)
                type_coerce(null(), Date).label("birth_date"),
            )
            .join(patient_identifiers, c.patient_id == patients.c.id)
            .where(
                current,
                or_(
                    *(
                        (c.system == bindparam(f"system_{i}")) & (c.value == bindparam(f"value_{i}"))
                        for i in range(identifiers)
                    )
                ),
            )
        )
    if names:
        parts.append(
            select(
                patients.c.id,
                patients.c.document,
                patients.c.coverage,
                null().label("system"),
                null().label("value"),
                patients.c.family_name,
                patients.c.birth_date,
            ).where(
                current,
                or_(
                    *(
                        (patients.c.family_name == bindparam(f"family_name_{i}"))
                        & (patients.c.birth_date == bindparam(f"birth_date_{i}"))
                        for i in range(names)
                    )
                ),
            )
        )
    return parts[0].union_all(parts[1]) if len(parts) == 2 else parts[0]


@dataclass
class PatientsAhead:
    """The candidates of a batch's new orders, read in one statement, and what the batch's orders did since."""

    #: patient id -> (document, coverage), as read
    found: dict[str, tuple[Any, Any]] = field(default_factory=dict)
    by_key: dict[tuple[str, str], set[str]] = field(default_factory=dict)
    by_name: dict[tuple[str, date], set[str]] = field(default_factory=dict)
    #: identifier keys and names of the orders matched since: a later order sharing one may be the patient an
    #: earlier one created or gave a new identifier, which the read did not see, so it reads afresh
    seen_keys: set[tuple[str, str]] = field(default_factory=set)
    seen_names: set[tuple[str, date]] = field(default_factory=set)
    #: profiles an earlier order of the batch updated, as they now are
    changed: dict[str, Patient] = field(default_factory=dict)
    #: what the read looked for: an order with another key (its patient scoped otherwise) reads afresh
    asked_keys: set[tuple[str, str]] = field(default_factory=set)
    asked_names: set[tuple[str, date]] = field(default_factory=set)

    def candidates(self, info: PatientInfo) -> dict[str, tuple[Patient, Any]] | None:
        """This order's candidates as a fresh read would find them; None when only a fresh read can tell."""
        keys, name = _identifier_keys(info.identifiers), _name_key(info)
        if self.seen_keys.intersection(keys) or (name is not None and name in self.seen_names):
            return None
        if not self.asked_keys.issuperset(keys) or (name is not None and name not in self.asked_names):
            return None
        ids: set[str] = set()
        for key in keys:
            ids |= self.by_key.get(key, set())
        if name is not None:
            ids |= self.by_name.get(name, set())
        return {
            pid: (self.changed.get(pid) or Patient.model_validate(self.found[pid][0]), self.found[pid][1])
            for pid in sorted(ids)
        }

    def note(self, info: PatientInfo) -> None:
        """An order was matched or created: later orders that share its identifiers or name read afresh."""
        self.seen_keys.update(_identifier_keys(info.identifiers))
        name = _name_key(info)
        if name is not None:
            self.seen_names.add(name)


def _padded(items: list[Any]) -> list[Any]:
    """The list grown to a power of two by repeating its last item: a few query shapes, not one per batch
    size (each is compiled, cached and prepared on its own)."""
    size = 1
    while size < len(items):
        size *= 2
    return items + items[-1:] * (size - len(items))


def _read_candidates(conn: Connection, state: TransactionState | None, infos: Sequence[PatientInfo]) -> PatientsAhead:
    """The profiles sharing an identifier, or name and birth date, with any of these orders' patients, with their
    coverage: one statement."""
    keys = _padded(sorted({key for info in infos for key in _identifier_keys(info.identifiers)}))
    names = _padded(sorted({name for name in map(_name_key, infos) if name is not None}))
    found = PatientsAhead(asked_keys=set(keys), asked_names=set(names))
    if not keys and not names:
        return found
    params: dict[str, Any] = {}
    for i, (system, value) in enumerate(keys):
        params[f"system_{i}"], params[f"value_{i}"] = system, value
    for i, (family_name, birth_date) in enumerate(names):
        params[f"family_name_{i}"], params[f"birth_date_{i}"] = family_name, birth_date
    for pid, document, coverage, system, value, family_name, birth_date in deferred.execute(
        conn, state, _candidates_query(len(keys), len(names)), params
    ):
        found.found[pid] = (document, coverage)
        if system is not None:
            found.by_key.setdefault((system, value), set()).add(pid)
        else:
            found.by_name.setdefault((family_name, birth_date), set()).add(pid)
    return found


def read_patients_ahead(conn: Connection, state: TransactionState, infos: Sequence[PatientInfo]) -> None:
    """Read the patient candidates of a batch's new orders in one statement (``match_patient`` uses them).

    Each order read its own: a round trip per order, on the step every order waits for. Kept in ``state``, it
    ends with the transaction.
    """
    state.patients_ahead = _read_candidates(conn, state, infos)


def _known_prescribers(engine: Engine) -> dict[str, Prescriber]:
    with _PRESCRIBERS_LOCK:
        return _PRESCRIBERS.setdefault(engine, {})


@dataclass(frozen=True)
class PatientMatch:
    """The profile an order's patient was matched to (or created as), with the insurance on file."""

    patient: Patient
    #: the pharmacy's coverage on file (None for a new patient)
    coverage: CoverageInfo | None
    #: created by this order: no other prescription can be theirs yet
    new: bool
    #: a new patient because the profile the order pointed at has conflicting demographics
    conflict: IdentityConflict | None = None
    #: name, birth date or sex the order changed on the profile (old and new values, for the audit)
    changes: tuple[DemographicChange, ...] = ()


class PartyRepository:
    """Match-or-create for patients and prescribers on the unit of work's connection."""

    def __init__(self, conn: Connection, state: TransactionState | None = None) -> None:
        self.conn = conn
        #: the worker transaction's state (writes held back, rows read ahead); None: none of that
        self.state = state
        #: prescribers inserted by this transaction: not cached until committed
        self._created: set[str] = set()

    def patient_for(self, info: PatientInfo) -> Patient:
        """The profile this order's patient matches (updated with what the order adds), or a new one."""
        return self.match_patient(info).patient

    def match_patient(self, info: PatientInfo) -> PatientMatch:
        """``patient_for``, with the coverage on file read in the same statement as the candidates.

        ``info`` as matched and stored: its identifiers without an authority already scoped to their sender
        (``hub.domain.patient_identity.scoped_to_sender``). A new patient's rows are held back to the end of the
        transaction (``hub.persistence.deferred``), with the batch's other new patients; so is a conflict's.
        """
        ahead = self.state.patients_ahead if self.state is not None else None
        candidates = ahead.candidates(info) if ahead is not None else None
        if candidates is None:
            candidates = self._patient_candidates(info)
        if ahead is not None:
            ahead.note(info)
        matching = match_patient([c for c, _ in candidates.values()], info)
        found = matching.patient
        if found is None:
            patient = Patient.new(str(uuid.uuid4()), info)
            row = dict(
                id=patient.patient_id,
                **_name_columns(info),
                document=patient.model_dump(mode="json"),
                created_at=datetime.now(UTC),
            )
            keys = _identifier_keys(patient.info.identifiers)
            if self.conn.dialect.name == "postgresql" and len(keys) == 1:
                # the usual new patient, one identifier: both rows in one statement
                system, value = keys[0]
                deferred.write(
                    self.conn, self.state, _NEW_PATIENT_WITH_IDENTIFIER, {**row, "system": system, "value": value}
                )
            else:
                deferred.write(self.conn, self.state, _INSERT_PATIENT, row)
                # a conflict's new patient shares an identifier the index gives the other: it stays the other's
                self._index_identifiers(patient, patient.info.identifiers)
            return PatientMatch(patient, None, new=True, conflict=matching.conflict)
        patient = found.merged_with(info)
        # always written, even when nothing changed: the row lock serialises intakes of one patient, so each
        # sees the other's prescription in its DUR profile (PostgreSQL, read committed)
        self._forget_read_ahead(patient.patient_id)
        written = deferred.execute(
            self.conn,
            self.state,
            _UPDATE_PATIENT,
            {
                "patient_id": patient.patient_id,
                "document": patient.model_dump(mode="json"),
                **_name_columns(patient.info),
            },
        )
        if written.rowcount != 1:
            raise TransientError("the patient was linked into another profile meanwhile; retry")
        if ahead is not None:
            ahead.changed[patient.patient_id] = patient
        known = set(found.info.identifiers)
        self._index_identifiers(patient, tuple(i for i in patient.info.identifiers if i not in known))
        coverage = candidates[found.patient_id][1]
        return PatientMatch(
            patient,
            CoverageInfo.model_validate(coverage) if coverage else None,
            new=False,
            changes=demographic_changes(found.info, patient.info),
        )

    def patient(self, patient_id: str) -> Patient | None:
        """A patient profile by id; in a batch that read its prescriptions ahead, the first patient asked for
        reads every patient of those prescriptions in one statement (a claim step read one per order)."""
        ahead = read_ahead(self.state)
        if ahead is not None and patient_id in ahead.patient_ids:
            wanted, ahead.patient_ids = list(ahead.patient_ids), set()
            rows = deferred.execute(self.conn, self.state, _PATIENTS, {"patient_ids": wanted})
            ahead.patients = {r.id: r.document for r in rows}
        if ahead is not None and patient_id in ahead.patients:
            return Patient.model_validate(ahead.patients.pop(patient_id))
        row = deferred.execute(self.conn, self.state, _PATIENT, {"patient_id": patient_id}).first()
        return Patient.model_validate(row[0]) if row else None

    def coverage(self, patient_id: str) -> CoverageInfo | None:
        """The insurance the pharmacy keeps on file for the patient."""
        row = deferred.execute(
            self.conn, self.state, select(patients.c.coverage).where(patients.c.id == patient_id)
        ).first()
        return CoverageInfo.model_validate(row[0]) if row and row[0] else None

    def plans_on_file(self, patient_id: str) -> tuple[CoverageInfo, ...]:
        """The patient's plans on file in billing order (``patient_coverages``); empty when none are listed."""
        return PatientCoverages(self.conn).ordered(patient_id)

    def set_coverage(self, patient_id: str, coverage: CoverageInfo) -> None:
        """Record the patient's insurance card."""
        deferred.execute(
            self.conn,
            self.state,
            update(patients).where(patients.c.id == patient_id).values(coverage=coverage.model_dump(mode="json")),
        )

    def _forget_read_ahead(self, patient_id: str) -> None:
        """The patient is being changed: a later read in the batch must see the change, not the copy."""
        ahead = read_ahead(self.state)
        if ahead is not None:
            ahead.patient_ids.discard(patient_id)
            ahead.patients.pop(patient_id, None)

    def prescriber_for(self, info: PrescriberInfo) -> Prescriber:
        """The known prescriber with this NPI/DEA, or a new record."""
        known = _known_prescribers(self.conn.engine)
        if info.npi and info.npi in known:
            return known[info.npi]
        # known only by name: nothing could match it (and reading every namesake grew with each such order)
        query = _PRESCRIBERS_BY[(bool(info.npi), bool(info.family_name))] if identifiable(info) else None
        params = {"npi": info.npi, "family_name": (info.family_name or "").casefold()}
        rows = self.conn.execute(query, params).all() if query is not None else []
        # the NPI column is the document's NPI (written together, never changed): read the one that has it
        # first, and the namesakes' documents only when it is not there (matching by DEA)
        by_npi = [r for r in rows if info.npi and r[0] == info.npi]
        found = match_prescriber([Prescriber.model_validate(r[1]) for r in by_npi], info) if by_npi else None
        if found is not None:
            if found.prescriber_id not in self._created:  # committed, and never changed: kept for the process
                known[found.info.npi or ""] = found
            return found
        found = match_prescriber([Prescriber.model_validate(r[1]) for r in rows], info)
        if found is not None:
            return found
        prescriber = Prescriber.new(str(uuid.uuid4()), info)
        self._created.add(prescriber.prescriber_id)
        # a prescriber holding this NPI would have been among the candidates and matched by it; two orders
        # racing to create the same prescriber collide on the unique NPI and the loser is retried, then matches
        self.conn.execute(
            insert(prescribers),
            dict(
                id=prescriber.prescriber_id,
                npi=info.npi,
                family_name=(info.family_name or "").casefold() or None,
                document=prescriber.model_dump(mode="json"),
            ),
        )
        return prescriber

    def _patient_candidates(self, info: PatientInfo) -> dict[str, tuple[Patient, Any]]:
        """This order's candidates read now (after the rows the transaction held back)."""
        found = _read_candidates(self.conn, self.state, [info]).candidates(info)
        assert found is not None  # a fresh read has seen no other order
        return found

    def _index_identifiers(self, patient: Patient, identifiers: tuple[Identifier, ...]) -> None:
        keys = _identifier_keys(identifiers)
        if not keys:
            return
        for system, value in keys:
            deferred.write(
                self.conn,
                self.state,
                _INDEX_IDENTIFIER[self.conn.dialect.name],
                dict(system=system, value=value, patient_id=patient.patient_id),
            )
