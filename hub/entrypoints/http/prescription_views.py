"""Staff reads of prescriptions: one prescription's story, a patient's profile, a lookup by number.

Every read that shows a patient's details is audited; technicians see what was done, not the audit itself.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends

from hub.domain.prescription import Prescription
from hub.entrypoints.http.auth import require
from hub.entrypoints.http.dependencies import Audit, DbEngine
from hub.entrypoints.http.record_routes import profile_line
from hub.entrypoints.http.staff_commands import STAFF, prescription_row
from hub.persistence.claims import ClaimLedger
from hub.persistence.database import read_connection
from hub.persistence.prescriptions import PrescriptionRepository, load_aggregate
from hub.persistence.users import User

router = APIRouter(prefix="/api", tags=["staff"])


@router.get("/patients/{patient_id}/prescriptions")
def patient_profile(
    patient_id: str, engine: DbEngine, audit: Audit, user: User = Depends(require(*STAFF))
) -> list[dict[str, Any]]:
    """The patient's medication profile (for the pharmacist's DUR review); the read is audited."""
    with read_connection(engine) as conn:
        rows = PrescriptionRepository(conn).for_patient(patient_id)
    audit.record(actor=user.name, role=user.role, action="read patient profile", patient_id=patient_id)
    return [profile_line(load_aggregate(row)) for row in rows]


@router.get("/prescriptions/{prescription_id}")
def prescription(
    prescription_id: str, engine: DbEngine, audit: Audit, user: User = Depends(require(*STAFF))
) -> dict[str, Any]:
    """One prescription with its whole timeline (every read of patient details is audited)."""
    rx = load_aggregate(prescription_row(engine, prescription_id))
    audit.record(
        actor=user.name,
        role=user.role,
        action="read prescription",
        prescription_id=prescription_id,
        patient_id=rx.patient_id,
    )
    with read_connection(engine) as conn:
        claims = ClaimLedger(conn).for_prescription(prescription_id)
    entries = audit.query(prescription_id=prescription_id)
    return {
        "prescription": rx.model_dump(mode="json"),
        "state": rx.state.value,
        "claims": [c.__dict__ for c in claims],
        "rest_owed": _rest_owed(rx),
        # the audit (reads, refusals, their details) is for pharmacists and admins; technicians see the actions
        **(
            {"actions": _actions(entries)}
            if user.role == "technician"
            else {"audit": [e.__dict__ | {"at": e.at.isoformat()} for e in entries]}
        ),
    }


def _rest_owed(rx: Prescription) -> dict[str, Any] | None:
    """The rest a picked-up partial fill still owes, with its deadline (schedule II), for the completion button."""
    fill = rx.current_fill
    facts = rx.partial_facts(fill) if fill.completion_due else None
    if facts is None:
        return None
    return {**facts, "fill_number": fill.fill_number, "quantity_dispensed": str(fill.quantity_dispensed)}


def _actions(entries: list[Any]) -> list[dict[str, Any]]:
    """What was done to a prescription, from its audit entries: who asked for or applied which command, when."""
    return [
        {"at": e.at.isoformat(), "actor": e.actor, "role": e.role, "action": e.action, "outcome": e.outcome}
        for e in entries
        if e.action.startswith(("request ", "apply "))
    ]


@router.get("/prescriptions")
def find(
    engine: DbEngine,
    rx_number: str | None = None,
    placer_order_number: str | None = None,
    user: User = Depends(require(*STAFF)),
) -> list[dict[str, str]]:
    """Find prescriptions by Rx number or placer order number."""
    with read_connection(engine) as conn:
        repo = PrescriptionRepository(conn)
        rows = (
            [repo.by_rx_number(rx_number)]
            if rx_number
            else ([repo.by_placer(None, placer_order_number)] if placer_order_number else [])
        )
    return [
        {
            "prescription_id": r.id,
            "rx_number": r.rx_number,
            "state": r.state,
            "placer_order_number": r.placer_order_number,
        }
        for r in rows
        if r is not None
    ]
