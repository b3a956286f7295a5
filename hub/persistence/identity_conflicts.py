"""Identity conflicts: orders kept off a profile whose demographics disagree, and a technician's decision.

Intake opens one (``IdentityConflicts.open``, held back with the batch's other rows); the staff API lists
them and decides each once (``decide``); a link moves the new profile's prescriptions and identifiers to the
existing profile and keeps the new one, marked merged (``link``). docs/patient-matching.md has the rules.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, bindparam, insert, select, update

from hub.domain.order_parts import Identifier
from hub.domain.parties import Patient, move_prescription
from hub.domain.patient_identity import AlreadyDecided, ConflictStatus, Decision, IdentityConflict, decided
from hub.errors import NotFound
from hub.persistence import deferred
from hub.persistence.prescriptions import PrescriptionRepository, load_aggregate, store_aggregate
from hub.persistence.tables import identity_conflicts, patient_identifiers, patients, prescriptions
from hub.persistence.transaction_state import TransactionState

_OPEN = insert(identity_conflicts)
_BY_ID = select(identity_conflicts).where(identity_conflicts.c.id == bindparam("conflict_id"))
#: only an open item is decided: a second decision, even a concurrent one, changes no row
_DECIDE = (
    update(identity_conflicts)
    .where(
        identity_conflicts.c.id == bindparam("conflict_id"), identity_conflicts.c.status == ConflictStatus.OPEN.value
    )
    .values(
        status=bindparam("status"),
        decided_by=bindparam("decided_by"),
        decided_at=bindparam("decided_at"),
        reason=bindparam("reason"),
    )
)
_PATIENTS = select(patients.c.id, patients.c.document).where(
    patients.c.id.in_(bindparam("patient_ids", expanding=True))
)
#: a link follows the existing profile's own links at most this far (each was a technician's decision)
_MAX_HOPS = 16


@dataclass(frozen=True)
class ConflictRecord:
    """One identity conflict as stored."""

    id: str
    new_patient_id: str
    existing_patient_id: str
    identifier: Identifier | None
    fields: tuple[str, ...]
    source: str
    principal: str | None
    created_at: datetime
    status: ConflictStatus
    decided_by: str | None = None
    decided_at: datetime | None = None
    reason: str | None = None


@dataclass(frozen=True)
class Linked:
    """What a link did: the profile that remains, and the prescriptions that moved to it."""

    patient: Patient
    retired_patient_id: str
    prescription_ids: tuple[str, ...]


class IdentityConflicts:
    """The identity conflicts on the caller's connection (in its transaction)."""

    def __init__(self, conn: Connection, state: TransactionState | None = None) -> None:
        self.conn = conn
        #: the worker transaction's state (writes held back, rows read ahead); None: none of that
        self.state = state

    def open(self, conflict: IdentityConflict, *, new_patient_id: str, source: str, principal: str | None) -> str:
        """Record an open conflict (held back to the end of a worker's transaction); its id."""
        conflict_id = str(uuid.uuid4())
        identifier = conflict.identifier
        deferred.write(
            self.conn,
            self.state,
            _OPEN,
            dict(
                id=conflict_id,
                new_patient_id=new_patient_id,
                existing_patient_id=conflict.existing_patient_id,
                identifier_system=identifier.system if identifier else None,
                identifier_value=identifier.value if identifier else None,
                fields=list(conflict.fields),
                source=source,
                principal=principal,
                created_at=datetime.now(UTC),
                status=ConflictStatus.OPEN.value,
            ),
        )
        return conflict_id

    def get(self, conflict_id: str) -> ConflictRecord | None:
        """One conflict, or None."""
        row = deferred.execute(self.conn, self.state, _BY_ID, {"conflict_id": conflict_id}).mappings().first()
        return _record(row) if row else None

    def listing(self, status: ConflictStatus, limit: int = 200) -> list[ConflictRecord]:
        """The conflicts in a status, oldest first."""
        query = (
            select(identity_conflicts)
            .where(identity_conflicts.c.status == status.value)
            .order_by(identity_conflicts.c.created_at, identity_conflicts.c.id)
            .limit(limit)
        )
        return [_record(r) for r in deferred.execute(self.conn, self.state, query).mappings()]

    def patients(self, patient_ids: Sequence[str]) -> dict[str, Patient]:
        """Profiles by id, in one statement."""
        if not patient_ids:
            return {}
        rows = deferred.execute(self.conn, self.state, _PATIENTS, {"patient_ids": sorted(set(patient_ids))}).all()
        return {pid: Patient.model_validate(document) for pid, document in rows}

    def decide(self, conflict_id: str, decision: Decision, *, by: str, reason: str) -> ConflictRecord:
        """Close an open conflict with a decision; NotFound, or AlreadyDecided (a second or concurrent one)."""
        record = self.get(conflict_id)
        if record is None:
            raise NotFound(f"no identity conflict {conflict_id}")
        status, at = decided(conflict_id, record.status, decision), datetime.now(UTC)
        result = deferred.execute(
            self.conn,
            self.state,
            _DECIDE,
            dict(conflict_id=conflict_id, status=status.value, decided_by=by, decided_at=at, reason=reason),
        )
        if result.rowcount != 1:
            raise AlreadyDecided(conflict_id, "decided")
        return replace(record, status=status, decided_by=by, decided_at=at, reason=reason)

    def link(self, new_patient_id: str, existing_patient_id: str) -> Linked:
        """Link the new profile into the existing one (or the profile that one was linked into since).

        The existing profile gains the new one's identifiers, allergies and, as an alias, its demographics; the
        new one is kept, marked merged; its prescriptions (column and document) and identifier index rows move.
        """
        new, existing = self._current(new_patient_id), self._current(existing_patient_id)
        if new.patient_id == existing.patient_id:  # already one profile: nothing to move
            return Linked(existing, new_patient_id, ())
        kept, retired = existing.absorbing(new), new.linked_into(existing)
        deferred.execute(
            self.conn,
            self.state,
            update(patients).where(patients.c.id == kept.patient_id).values(document=kept.model_dump(mode="json")),
        )
        deferred.execute(
            self.conn,
            self.state,
            update(patients)
            .where(patients.c.id == retired.patient_id)
            .values(document=retired.model_dump(mode="json"), merged_into=kept.patient_id),
        )
        deferred.execute(
            self.conn,
            self.state,
            update(patient_identifiers)
            .where(patient_identifiers.c.patient_id == retired.patient_id)
            .values(patient_id=kept.patient_id),
        )
        return Linked(kept, retired.patient_id, self._move_prescriptions(retired.patient_id, kept))

    def _current(self, patient_id: str) -> Patient:
        """The profile, locked for the link, or the one it was linked into since."""
        for _ in range(_MAX_HOPS):
            query = select(patients.c.document).where(patients.c.id == patient_id).with_for_update()
            row = deferred.execute(self.conn, self.state, query).first()
            if row is None:
                raise NotFound(f"no patient {patient_id}")
            patient = Patient.model_validate(row[0])
            if patient.merged_into is None:
                return patient
            patient_id = patient.merged_into
        raise NotFound(f"patient {patient_id}: links too deep to follow")

    def _move_prescriptions(self, from_patient_id: str, to: Patient) -> tuple[str, ...]:
        """Each prescription's document and patient column; a worker's concurrent change fails the flush (retry)."""
        repo = PrescriptionRepository(self.conn, self.state)
        rows = repo.for_patient(from_patient_id)
        for row in rows:
            rx = load_aggregate(row)
            move_prescription(rx, to)
            store_aggregate(row, rx)
            repo.save(row)
        deferred.execute(
            self.conn,
            self.state,
            update(prescriptions).where(prescriptions.c.patient_id == from_patient_id).values(patient_id=to.patient_id),
        )
        return tuple(sorted(row.id for row in rows))


def _record(row: Any) -> ConflictRecord:
    identifier = (
        Identifier(value=row["identifier_value"], system=row["identifier_system"])
        if row["identifier_value"] is not None
        else None
    )
    return ConflictRecord(
        id=row["id"],
        new_patient_id=row["new_patient_id"],
        existing_patient_id=row["existing_patient_id"],
        identifier=identifier,
        fields=tuple(row["fields"]),
        source=row["source"],
        principal=row["principal"],
        created_at=row["created_at"],
        status=ConflictStatus(row["status"]),
        decided_by=row["decided_by"],
        decided_at=row["decided_at"],
        reason=row["reason"],
    )
