"""Patients and prescribers: candidates for matching an inbound order, and their profiles."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, insert, or_, select, tuple_, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from hub.domain.order_parts import CoverageInfo, PatientInfo, PrescriberInfo
from hub.domain.parties import Patient, Prescriber, match_patient, match_prescriber
from hub.persistence.tables import patient_identifiers, patients, prescribers


class PartyRepository:
    """Match-or-create for patients and prescribers on the unit of work's connection."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def patient_for(self, info: PatientInfo) -> Patient:
        """The profile this order's patient matches (updated with what the order adds), or a new one."""
        candidates = self._patient_candidates(info)
        found = match_patient(candidates, info)
        if found is None:
            patient = Patient.new(str(uuid.uuid4()), info)
            self.conn.execute(insert(patients), dict(
                id=patient.patient_id, family_name=(info.family_name or "").casefold() or None,
                birth_date=info.birth_date, document=patient.model_dump(mode="json"),
                created_at=datetime.now(UTC),
            ))
        else:
            patient = found.merged_with(info)
            self.conn.execute(update(patients).where(patients.c.id == patient.patient_id)
                              .values(document=patient.model_dump(mode="json")))
        self._index_identifiers(patient)
        return patient

    def patient(self, patient_id: str) -> Patient | None:
        """A patient profile by id."""
        row = self.conn.execute(select(patients.c.document).where(patients.c.id == patient_id)).first()
        return Patient.model_validate(row[0]) if row else None

    def coverage(self, patient_id: str) -> CoverageInfo | None:
        """The insurance the pharmacy keeps on file for the patient."""
        row = self.conn.execute(select(patients.c.coverage).where(patients.c.id == patient_id)).first()
        return CoverageInfo.model_validate(row[0]) if row and row[0] else None

    def set_coverage(self, patient_id: str, coverage: CoverageInfo) -> None:
        """Record the patient's insurance card."""
        self.conn.execute(update(patients).where(patients.c.id == patient_id)
                          .values(coverage=coverage.model_dump(mode="json")))

    def prescriber_for(self, info: PrescriberInfo) -> Prescriber:
        """The known prescriber with this NPI/DEA, or a new record."""
        query = select(prescribers.c.document)
        conditions: list[Any] = []
        if info.npi:
            conditions.append(prescribers.c.npi == info.npi)
        if info.family_name:
            conditions.append(prescribers.c.family_name == info.family_name.casefold())
        rows = self.conn.execute(query.where(or_(*conditions))).all() if conditions else []
        found = match_prescriber([Prescriber.model_validate(r[0]) for r in rows], info)
        if found is not None:
            return found
        prescriber = Prescriber.new(str(uuid.uuid4()), info)
        # a prescriber holding this NPI would have been among the candidates and matched by it; two orders
        # racing to create the same prescriber collide on the unique NPI and the loser is retried, then matches
        self.conn.execute(insert(prescribers), dict(
            id=prescriber.prescriber_id, npi=info.npi,
            family_name=(info.family_name or "").casefold() or None, document=prescriber.model_dump(mode="json"),
        ))
        return prescriber

    def _patient_candidates(self, info: PatientInfo) -> list[Patient]:
        ids: set[str] = set()
        keys = [(i.system or "", i.value.strip()) for i in info.identifiers]
        if keys:
            rows = self.conn.execute(select(patient_identifiers.c.patient_id).where(
                tuple_(patient_identifiers.c.system, patient_identifiers.c.value).in_(keys))).all()
            ids.update(r[0] for r in rows)
        if info.family_name and info.birth_date:
            rows = self.conn.execute(select(patients.c.id).where(
                patients.c.family_name == info.family_name.casefold(), patients.c.birth_date == info.birth_date
            )).all()
            ids.update(r[0] for r in rows)
        if not ids:
            return []
        docs = self.conn.execute(select(patients.c.document).where(patients.c.id.in_(ids))).all()
        return [Patient.model_validate(r[0]) for r in docs]

    def _index_identifiers(self, patient: Patient) -> None:
        keys = {(ident.system or "", ident.value.strip()) for ident in patient.info.identifiers}
        if not keys:
            return
        dialect = self.conn.dialect.name
        ignore = sqlite_insert if dialect == "sqlite" else pg_insert
        self.conn.execute(
            ignore(patient_identifiers).on_conflict_do_nothing(),
            [dict(system=system, value=value, patient_id=patient.patient_id) for system, value in sorted(keys)],
        )
