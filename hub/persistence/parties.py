"""Patients and prescribers: candidates for matching an inbound order, and their profiles."""

from __future__ import annotations

import functools
import threading
import uuid
import weakref
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, String, bindparam, insert, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from hub.domain.order_parts import CoverageInfo, Identifier, PatientInfo, PrescriberInfo
from hub.domain.parties import Patient, Prescriber, identifiable, match_patient, match_prescriber
from hub.persistence.database import execute_rows
from hub.persistence.prescriptions import read_ahead
from hub.persistence.tables import patient_identifiers, patients, prescribers

_PATIENT = select(patients.c.document).where(patients.c.id == bindparam("patient_id"))
_PATIENTS = select(patients.c.id, patients.c.document).where(
    patients.c.id.in_(bindparam("patient_ids", expanding=True)))

#: per engine: prescribers found by NPI (rows are written once and never updated or deleted)
_PRESCRIBERS: weakref.WeakKeyDictionary[Engine, dict[str, Prescriber]] = weakref.WeakKeyDictionary()
_PRESCRIBERS_LOCK = threading.Lock()


def _identifier_keys(identifiers: tuple[Identifier, ...]) -> list[tuple[str, str]]:
    """The patient_identifiers keys of a profile's identifiers, sorted."""
    return sorted({(ident.system or "", ident.value.strip()) for ident in identifiers})


def _candidates() -> Any:
    return select(patients.c.id, patients.c.document, patients.c.coverage)


def _by_identifiers(count: int) -> Any:
    """Profiles holding any of ``count`` identifiers, as OR-ed equalities: SQLite plans a row-value IN list of
    two or more as a scan of the whole table (EXPLAIN QUERY PLAN), equalities on the unique index never."""
    c = patient_identifiers.c
    return _candidates().join(patient_identifiers, c.patient_id == patients.c.id).where(or_(*(
        (c.system == bindparam(f"system_{i}")) & (c.value == bindparam(f"value_{i}")) for i in range(count))))


_BY_NAME = _candidates().where(patients.c.family_name == bindparam("family_name"),
                               patients.c.birth_date == bindparam("birth_date"))
_UPDATE_PATIENT = update(patients).where(patients.c.id == bindparam("patient_id")).values(
    document=bindparam("document"))
_NEW_PATIENT = (insert(patients).values(
    id=bindparam("id"), family_name=bindparam("family_name"), birth_date=bindparam("birth_date"),
    document=bindparam("document"), created_at=bindparam("created_at")).returning(patients.c.id)
    .cte("new_patient"))
#: PostgreSQL: a new patient and its one identifier (a data-modifying CTE; SQLite has none)
_NEW_PATIENT_WITH_IDENTIFIER = pg_insert(patient_identifiers).from_select(
    ["system", "value", "patient_id"],
    select(bindparam("system", type_=String), bindparam("value", type_=String), _NEW_PATIENT.c.id),
).on_conflict_do_nothing()
#: per dialect: INSERT ... ON CONFLICT DO NOTHING into patient_identifiers
_INDEX_IDENTIFIER: dict[str, Any] = {}
_PRESCRIBER_COLUMNS = select(prescribers.c.npi, prescribers.c.document)
#: (has NPI, has family name) -> the prescriber candidates query (None: nothing to look by)
_PRESCRIBERS_BY: dict[tuple[bool, bool], Any] = {
    (True, True): _PRESCRIBER_COLUMNS.where(or_(prescribers.c.npi == bindparam("npi"),
                                                prescribers.c.family_name == bindparam("family_name"))),
    (True, False): _PRESCRIBER_COLUMNS.where(prescribers.c.npi == bindparam("npi")),
    (False, True): _PRESCRIBER_COLUMNS.where(prescribers.c.family_name == bindparam("family_name")),
    (False, False): None,
}
@functools.cache
def _candidates_query(identifiers: int, by_name: bool) -> Any:
    """The candidates query for this many identifiers, with or without the name and birth date (built once)."""
    if not identifiers:
        return _BY_NAME
    query = _by_identifiers(identifiers)
    return query.union_all(_BY_NAME) if by_name else query


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


class PartyRepository:
    """Match-or-create for patients and prescribers on the unit of work's connection."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        #: prescribers inserted by this transaction: not cached until committed
        self._created: set[str] = set()

    def patient_for(self, info: PatientInfo) -> Patient:
        """The profile this order's patient matches (updated with what the order adds), or a new one."""
        return self.match_patient(info).patient

    def match_patient(self, info: PatientInfo) -> PatientMatch:
        """``patient_for``, with the coverage on file read in the same statement as the candidates."""
        candidates = self._patient_candidates(info)
        found = match_patient([c for c, _ in candidates.values()], info)
        if found is None:
            patient = Patient.new(str(uuid.uuid4()), info)
            row = dict(id=patient.patient_id, family_name=(info.family_name or "").casefold() or None,
                       birth_date=info.birth_date, document=patient.model_dump(mode="json"),
                       created_at=datetime.now(UTC))
            keys = _identifier_keys(patient.info.identifiers)
            if self.conn.dialect.name == "postgresql" and len(keys) == 1:
                # the usual new patient, one identifier: both rows in one statement (one round trip)
                system, value = keys[0]
                self.conn.execute(_NEW_PATIENT_WITH_IDENTIFIER, {**row, "system": system, "value": value})
            else:
                self.conn.execute(insert(patients), row)
                self._index_identifiers(patient, patient.info.identifiers)
            return PatientMatch(patient, None, new=True)
        patient = found.merged_with(info)
        # always written, even when nothing changed: the row lock serialises intakes of one patient, so each
        # sees the other's prescription in its DUR profile (PostgreSQL, read committed)
        self._forget_read_ahead(patient.patient_id)
        self.conn.execute(_UPDATE_PATIENT, {"patient_id": patient.patient_id,
                                            "document": patient.model_dump(mode="json")})
        known = set(found.info.identifiers)
        self._index_identifiers(patient, tuple(i for i in patient.info.identifiers if i not in known))
        coverage = candidates[found.patient_id][1]
        return PatientMatch(patient, CoverageInfo.model_validate(coverage) if coverage else None, new=False)

    def patient(self, patient_id: str) -> Patient | None:
        """A patient profile by id; in a batch that read its prescriptions ahead, the first patient asked for
        reads every patient of those prescriptions in one statement (a claim step read one per order)."""
        ahead = read_ahead(self.conn)
        if ahead is not None and patient_id in ahead.patient_ids:
            wanted, ahead.patient_ids = list(ahead.patient_ids), set()
            ahead.patients = {r.id: r.document for r in self.conn.execute(_PATIENTS, {"patient_ids": wanted})}
        if ahead is not None and patient_id in ahead.patients:
            return Patient.model_validate(ahead.patients.pop(patient_id))
        row = self.conn.execute(_PATIENT, {"patient_id": patient_id}).first()
        return Patient.model_validate(row[0]) if row else None

    def coverage(self, patient_id: str) -> CoverageInfo | None:
        """The insurance the pharmacy keeps on file for the patient."""
        row = self.conn.execute(select(patients.c.coverage).where(patients.c.id == patient_id)).first()
        return CoverageInfo.model_validate(row[0]) if row and row[0] else None

    def set_coverage(self, patient_id: str, coverage: CoverageInfo) -> None:
        """Record the patient's insurance card."""
        self.conn.execute(update(patients).where(patients.c.id == patient_id)
                          .values(coverage=coverage.model_dump(mode="json")))

    def _forget_read_ahead(self, patient_id: str) -> None:
        """The patient is being changed: a later read in the batch must see the change, not the copy."""
        ahead = read_ahead(self.conn)
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
        self.conn.execute(insert(prescribers), dict(
            id=prescriber.prescriber_id, npi=info.npi,
            family_name=(info.family_name or "").casefold() or None, document=prescriber.model_dump(mode="json"),
        ))
        return prescriber

    def _patient_candidates(self, info: PatientInfo) -> dict[str, tuple[Patient, Any]]:
        """Profiles sharing an identifier, or name and birth date, with their coverage: one statement."""
        keys = _identifier_keys(info.identifiers)
        by_name = bool(info.family_name and info.birth_date)
        if not keys and not by_name:
            return {}
        params: dict[str, Any] = {}
        for i, (system, value) in enumerate(keys):
            params[f"system_{i}"], params[f"value_{i}"] = system, value
        if by_name:
            params.update(family_name=(info.family_name or "").casefold(), birth_date=info.birth_date)
        query = _candidates_query(len(keys), by_name)
        found: dict[str, tuple[Patient, Any]] = {}
        for patient_id, document, coverage in self.conn.execute(query, params).all():
            if patient_id not in found:  # one profile can match both ways
                found[patient_id] = (Patient.model_validate(document), coverage)
        return found

    def _index_identifiers(self, patient: Patient, identifiers: tuple[Identifier, ...]) -> None:
        keys = _identifier_keys(identifiers)
        if not keys:
            return
        dialect = self.conn.dialect.name
        if dialect not in _INDEX_IDENTIFIER:
            ignore = sqlite_insert if dialect == "sqlite" else pg_insert
            _INDEX_IDENTIFIER[dialect] = ignore(patient_identifiers).on_conflict_do_nothing()
        rows = [dict(system=system, value=value, patient_id=patient.patient_id) for system, value in keys]
        execute_rows(self.conn, _INDEX_IDENTIFIER[dialect], rows)
