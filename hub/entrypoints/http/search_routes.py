"""Finding a prescription the way staff are asked for one: patient name and birth date, Rx or placer number.

A patient at the counter gives a name and a birth date, a prescriber's office an order number, a label an Rx
number; the search answers the prescriptions with enough to choose one (no internal ids shown to staff beyond
the link), and is audited once per search, naming every prescription and patient it returned.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Query

from hub.entrypoints.http.auth import require
from hub.entrypoints.http.dependencies import Audit, DbEngine
from hub.entrypoints.http.record_routes import demographics
from hub.persistence.database import read_connection
from hub.persistence.parties import PartyRepository
from hub.persistence.prescriptions import PrescriptionRepository, load_aggregate
from hub.persistence.users import User

router = APIRouter(prefix="/api", tags=["staff"])

#: most prescriptions one search returns, newest first
MAX_RESULTS = 100
_STAFF = ("technician", "pharmacist", "admin")


@router.get("/search")
def search(
    engine: DbEngine,
    audit: Audit,
    family: str | None = Query(None, max_length=100, description="patient's family name"),
    birth_date: date | None = Query(None, description="patient's birth date, with the family name"),
    rx_number: str | None = Query(None, max_length=20),
    placer: str | None = Query(None, max_length=100),
    user: User = Depends(require(*_STAFF)),
) -> list[dict[str, Any]]:
    """Prescriptions matching every criterion given (name and birth date go together), newest first."""
    family = (family or "").strip() or None
    if (family is None) != (birth_date is None):
        raise HTTPException(422, "a patient is searched by family name and birth date together")
    if family is None and not rx_number and not placer:
        raise HTTPException(422, "give a family name with a birth date, an Rx number or a placer number")
    today = date.today()
    with read_connection(engine) as conn:
        rows = PrescriptionRepository(conn).search(
            family_name=family,
            birth_date=birth_date,
            rx_number=(rx_number or "").strip() or None,
            placer_order_number=(placer or "").strip() or None,
            limit=MAX_RESULTS,
        )
        parties = PartyRepository(conn)
        found = []
        for row in rows:
            rx = load_aggregate(row)
            fill = rx.current_fill
            found.append(
                {
                    "prescription_id": rx.prescription_id,
                    "rx_number": rx.rx_number,
                    "state": rx.state.value,
                    "placer_order_number": row.placer_order_number,
                    "patient": rx.patient_name,
                    "patient_id": rx.patient_id,
                    **demographics(parties.patient(rx.patient_id), today),
                    "drug": rx.product.display_name if rx.product else (rx.drug.text or rx.drug.ndc),
                    "written_date": rx.written_date.isoformat(),
                    "fills": fill.fill_number,
                    "refills_remaining": rx.refills_remaining,
                }
            )
    audit.record(
        actor=user.name,
        role=user.role,
        action="search prescriptions",
        detail={
            "criteria": {"family": family, "birth_date": birth_date, "rx_number": rx_number, "placer": placer},
            "prescription_ids": [f["prescription_id"] for f in found],
            "patient_ids": sorted({f["patient_id"] for f in found}),
        },
    )
    for f in found:
        del f["patient_id"]
    return found
