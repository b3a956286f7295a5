"""Patient identity in the service layer: intake's match of an order's patient, and a technician's decision
on an identity conflict; both audit what they change in the caller's transaction (docs/patient-matching.md).
"""

from __future__ import annotations

import logging
from typing import Any

from hub.domain.actors import Actor
from hub.domain.order_parts import PatientInfo, Source
from hub.domain.patient_identity import Decision, scoped_to_sender
from hub.messaging.envelope import Envelope
from hub.persistence.identity_conflicts import ConflictRecord
from hub.persistence.parties import PatientMatch
from hub.service.unit_of_work import Parties, UnitOfWork

log = logging.getLogger(__name__)
#: the scope of the identifiers staff type in (verbal orders): the pharmacy's own, shared by every staff member
PHARMACY_SCOPE = "pharmacy"


def identifier_scope(envelope: Envelope) -> str | None:
    """Whose identifiers without an authority these are: the door's principal, or the pharmacy's for staff."""
    if envelope.source in (Source.VERBAL, Source.API):
        return PHARMACY_SCOPE
    return envelope.principal


def match_order_patient(
    uow: UnitOfWork, parties: Parties, info: PatientInfo, envelope: Envelope, actor: Actor
) -> PatientMatch:
    """The order's patient, its identifiers without an authority scoped to the principal that sent it.

    A name, birth date or sex the order changed is audited with old and new value and the sender; an order
    kept off a profile by conflicting demographics opens an identity conflict for a technician.
    """
    match = parties.match_patient(scoped_to_sender(info, identifier_scope(envelope)))
    sender = {"principal": envelope.principal, "door": envelope.source.value}
    if match.changes:
        uow.audit(
            actor=actor.user_id,
            role=actor.role.value,
            action="patient-demographics-changed",
            patient_id=match.patient.patient_id,
            detail={**sender, "changes": [c.model_dump(mode="json") for c in match.changes]},
        )
    if match.conflict is not None:
        conflict_id = uow.identity_conflicts.open(
            match.conflict,
            new_patient_id=match.patient.patient_id,
            source=envelope.source.value,
            principal=envelope.principal,
        )
        uow.audit(
            actor=actor.user_id,
            role=actor.role.value,
            action="identity-conflict-opened",
            patient_id=match.patient.patient_id,
            detail={
                **sender,
                "conflict_id": conflict_id,
                "fields": list(match.conflict.fields),
                "existing_patient_id": match.conflict.existing_patient_id,
            },
        )
        # field names only: the values are the patient's
        log.info("identity conflict %s opened: %s differ", conflict_id, ", ".join(match.conflict.fields))
    return match


def decide_conflict(
    uow: UnitOfWork, conflict_id: str, decision: Decision, *, user: str, role: str, reason: str
) -> ConflictRecord:
    """Link the conflict's new profile into the existing one, or keep them apart; decided once (AlreadyDecided).

    Audited with the deciding user, one entry per moved prescription besides, in the caller's transaction.
    """
    conflicts = uow.identity_conflicts
    record = conflicts.decide(conflict_id, decision, by=user, reason=reason)
    detail: dict[str, Any] = {
        "conflict_id": conflict_id,
        "new_patient_id": record.new_patient_id,
        "existing_patient_id": record.existing_patient_id,
        "reason": reason,
    }
    patient_id = record.existing_patient_id
    if decision is Decision.LINK:
        linked = conflicts.link(record.new_patient_id, record.existing_patient_id)
        patient_id = linked.patient.patient_id
        detail |= {"linked_into": patient_id, "prescriptions": list(linked.prescription_ids)}
        for prescription_id in linked.prescription_ids:
            uow.audit(
                actor=user,
                role=role,
                action="patient-linked",
                prescription_id=prescription_id,
                patient_id=patient_id,
                detail={"conflict_id": conflict_id, "from_patient_id": linked.retired_patient_id},
            )
    uow.audit(actor=user, role=role, action=f"identity-conflict-{decision.value}", patient_id=patient_id, detail=detail)
    log.info("identity conflict %s decided: %s", conflict_id, decision.value)
    return record
