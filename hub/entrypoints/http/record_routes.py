"""Reads of patient details for pages that show many at once: one audited read per page view, not per card.

The verification page shows each queued order beside its patient's profile; reading them one request (and one
audit entry) per card filled the audit trail with a read per queued order at every visit. Here the page asks
for the records of the cards it is about to show, and the read is audited once, naming every prescription and
patient it returned.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Query
from sqlalchemy import Engine

from hub.domain.parties import Patient
from hub.domain.prescription import Prescription
from hub.entrypoints.http.auth import require
from hub.entrypoints.http.dependencies import Audit, DbEngine
from hub.persistence.database import read_connection
from hub.persistence.parties import PartyRepository
from hub.persistence.prescriptions import PrescriptionRepository, load_aggregate
from hub.persistence.users import User

router = APIRouter(prefix="/api", tags=["staff"])

#: most records one read returns (a work queue's page)
MAX_RECORDS = 200
_STAFF = ("technician", "pharmacist", "admin")
#: administrative sex (HL7 table 0001, as the doors normalise it) in words
_SEX = {"M": "male", "F": "female", "O": "other", "U": "unknown"}


def profile_line(rx: Prescription) -> dict[str, Any]:
    """One prescription of a patient's medication profile: drug, directions, last fill, days supply, state."""
    last = rx.current_fill
    return {
        "prescription_id": rx.prescription_id,
        "rx_number": rx.rx_number,
        "state": rx.state.value,
        "drug": rx.product.display_name if rx.product else (rx.drug.text or rx.drug.ndc),
        "sig": rx.sig,
        "written_date": rx.written_date.isoformat(),
        "refills_remaining": rx.refills_remaining,
        "last_filled": last.filled_at.isoformat() if last.filled_at else None,
        "days_supply": last.days_supply,
    }


def demographics(patient: Patient | None, today: date) -> dict[str, Any]:
    """Birth date, age in whole years and sex in words, for staff (no internal id)."""
    info = patient.info if patient is not None else None
    born = info.birth_date if info is not None else None
    age = None if born is None else today.year - born.year - ((today.month, today.day) < (born.month, born.day))
    sex = info.sex if info is not None else None
    return {
        "birth_date": born.isoformat() if born else None,
        "age": age,
        "sex": _SEX.get(sex or "", sex) if sex else None,
    }


def allergies(patient: Patient | None) -> list[dict[str, Any]] | None:
    """The profile's allergies as they stand now, reactions and severity in words: later orders may have added to
    those the prescription was screened against. None without a profile."""
    return [a.model_dump(mode="json") for a in patient.allergies] if patient is not None else None


def _records(engine: Engine, ids: list[str]) -> dict[str, dict[str, Any]]:
    today = date.today()
    found: dict[str, dict[str, Any]] = {}
    with read_connection(engine) as conn:
        repo, parties = PrescriptionRepository(conn), PartyRepository(conn)
        rows = repo.by_ids(ids)
        profiles: dict[str, list[dict[str, Any]]] = {}
        for pid, row in rows.items():
            rx = load_aggregate(row)
            if rx.patient_id not in profiles:
                profiles[rx.patient_id] = [profile_line(load_aggregate(r)) for r in repo.for_patient(rx.patient_id)]
            patient = parties.patient(rx.patient_id)
            found[pid] = {
                "prescription": rx.model_dump(mode="json"),
                "state": rx.state.value,
                "patient": {**demographics(patient, today), "allergies": allergies(patient)},
                "others": [p for p in profiles[rx.patient_id] if p["prescription_id"] != pid],
            }
    return found


@router.get("/records")
def records(
    engine: DbEngine,
    audit: Audit,
    ids: str = Query(description="prescription ids, comma-separated"),
    user: User = Depends(require(*_STAFF)),
) -> dict[str, Any]:
    """Several prescriptions with their patient's age, sex and other prescriptions, for the cards of one page
    view; one audit entry names them all (the page asks again only for cards that arrive later)."""
    wanted = list(dict.fromkeys(i for i in ids.split(",") if i))
    if not wanted or len(wanted) > MAX_RECORDS:
        raise HTTPException(422, f"give 1 to {MAX_RECORDS} prescription ids")
    found = _records(engine, wanted)
    audit.record(
        actor=user.name,
        role=user.role,
        action="read prescriptions for a page",
        detail={
            "prescription_ids": sorted(found),
            "patient_ids": sorted({r["prescription"]["patient_id"] for r in found.values()}),
        },
    )
    return {"records": found}
