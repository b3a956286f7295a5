"""The technicians' identity conflict queue: orders kept off a profile whose demographics disagree, each
decided once (link the two profiles, or keep them apart) in one audited transaction (docs/patient-matching.md).

Unlike the prescription actions a decision is not a queued command: the caller must learn at once whether it
was the one to decide (409 otherwise), and a link touches profiles and prescriptions no single worker owns.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from fastapi import APIRouter, Depends, HTTPException
from pydantic import BaseModel, ConfigDict, Field

from hub.domain.order_parts import Identifier
from hub.domain.parties import Patient
from hub.domain.patient_identity import AlreadyDecided, ConflictStatus, Decision, all_as_sent
from hub.entrypoints.http.auth import require
from hub.entrypoints.http.dependencies import Audit, DbEngine
from hub.errors import NotFound, TransientError
from hub.persistence.database import read_connection
from hub.persistence.identity_conflicts import ConflictRecord, IdentityConflicts
from hub.persistence.unit_of_work import unit_of_work
from hub.persistence.users import User
from hub.service.identity import decide_conflict

router = APIRouter(prefix="/api/identity-conflicts", tags=["staff"])

STAFF = ("technician", "pharmacist", "admin")
#: most items a listing returns
LIMIT = 200
#: a link that lost a race with a worker changing one of the prescriptions is tried again this many times
_ATTEMPTS = 3


class IdentityDecision(BaseModel):
    """A technician's decision on one conflict, with the reason the audit keeps."""

    model_config = ConfigDict(extra="forbid")

    decision: Decision
    reason: str = Field(min_length=1, max_length=500)


class PatientSide(BaseModel):
    """One of the two profiles, as staff compare them (identifiers as their senders gave them)."""

    patient_id: str
    family_name: str | None = None
    given_name: str | None = None
    birth_date: date | None = None
    sex: str | None = None
    identifiers: list[Identifier] = []
    address: str | None = None
    phone: str | None = None
    #: set once the profile was linked into another
    merged_into: str | None = None


class ConflictItem(BaseModel):
    """One identity conflict with both profiles."""

    id: str
    status: ConflictStatus
    #: the fields that disagree: birth_date, sex, name
    fields: list[str]
    #: the identifier the order shared with the existing profile (None: name and birth date found it)
    identifier: Identifier | None
    source: str
    principal: str | None
    created_at: datetime
    new_patient: PatientSide | None
    existing_patient: PatientSide | None
    decided_by: str | None = None
    decided_at: datetime | None = None
    reason: str | None = None


@router.get("", response_model=list[ConflictItem])
def conflicts(
    engine: DbEngine,
    audit: Audit,
    status: ConflictStatus = ConflictStatus.OPEN,
    user: User = Depends(require(*STAFF)),
) -> list[ConflictItem]:
    """The identity conflicts in a status (open by default), oldest first; the read of patient details is
    audited."""
    with read_connection(engine) as conn:
        store = IdentityConflicts(conn)
        records = store.listing(status, LIMIT)
        profiles = store.patients([pid for r in records for pid in (r.new_patient_id, r.existing_patient_id)])
    audit.record(
        actor=user.name,
        role=user.role,
        action="read identity conflicts",
        detail={"status": status.value, "count": len(records)},
    )
    return [_item(r, profiles) for r in records]


@router.post("/{conflict_id}/decision", response_model=ConflictItem)
def decision(
    conflict_id: str, body: IdentityDecision, engine: DbEngine, user: User = Depends(require(*STAFF))
) -> ConflictItem:
    """Link the new profile into the existing one, or keep them apart: once (409 after), audited."""
    for _ in range(_ATTEMPTS):
        try:
            with unit_of_work(engine, actor=user.id) as uow:
                record = decide_conflict(
                    uow, conflict_id, body.decision, user=user.name, role=user.role, reason=body.reason
                )
                profiles = uow.identity_conflicts.patients([record.new_patient_id, record.existing_patient_id])
            return _item(record, profiles)
        except NotFound as exc:
            raise HTTPException(404, str(exc)) from None
        except AlreadyDecided as exc:
            raise HTTPException(409, str(exc)) from None
        except TransientError:
            continue  # nothing of it was kept: decide again on what is there now
    raise HTTPException(409, "the patients' prescriptions kept changing; try again")


def _item(record: ConflictRecord, profiles: dict[str, Patient]) -> ConflictItem:
    identifier = all_as_sent([record.identifier])[0] if record.identifier else None
    return ConflictItem(
        id=record.id,
        status=record.status,
        fields=list(record.fields),
        identifier=identifier,
        source=record.source,
        principal=record.principal,
        created_at=record.created_at,
        new_patient=_side(profiles.get(record.new_patient_id)),
        existing_patient=_side(profiles.get(record.existing_patient_id)),
        decided_by=record.decided_by,
        decided_at=record.decided_at,
        reason=record.reason,
    )


def _side(patient: Patient | None) -> PatientSide | None:
    if patient is None:
        return None
    info: dict[str, Any] = patient.info.model_dump(exclude={"identifiers", "allergies"})
    return PatientSide(
        patient_id=patient.patient_id,
        identifiers=all_as_sent(patient.info.identifiers),
        merged_into=patient.merged_into,
        **info,
    )
