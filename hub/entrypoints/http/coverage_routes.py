"""A patient's plans on file in billing order, and the correction of a paid claim (issue 33, part 3).

``PUT /api/patients/{id}/coverages`` puts the plans a technician took from the patient's cards on file, primary
first; the next order of the patient is billed to them in that order (secondary after primary, COB).
``POST /api/prescriptions/{id}/claim-correction`` corrects a paid claim before filling (group, cardholder,
person code, clarification codes): the claim worker rebills it to the same payer as a B3.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, HTTPException, Request
from pydantic import AfterValidator, Field
from sqlalchemy import Connection

from hub.domain.claim import valid_clarification_codes
from hub.domain.order_parts import CoverageInfo
from hub.domain.states import RxState
from hub.domain.workflow_commands import CorrectPaidClaim
from hub.entrypoints.http.auth import require
from hub.entrypoints.http.dependencies import Audit, DbEngine
from hub.entrypoints.http.staff_commands import HANDS_ON, act
from hub.entrypoints.http.staff_models import Accepted, Body, CoverageCorrection
from hub.persistence.database import read_connection
from hub.persistence.parties import PartyRepository
from hub.persistence.patient_coverages import PatientCoverages
from hub.persistence.users import User

router = APIRouter(prefix="/api", tags=["staff"])

#: NCPDP 306-C6 patient relationship code: 1 cardholder, 2 spouse, 3 child, 4 other
RELATIONSHIP = r"^[0-4]$"


class PlanOnFile(CoverageCorrection):
    """One plan from the patient's card: the BIN is required, the rest as on the card."""

    bin: str = Field(pattern=r"^\d{6}$", description="101-A1 BIN")
    relationship: str | None = Field(default=None, pattern=RELATIONSHIP, description="306-C6 relationship")


class PlansOnFile(Body):
    """The patient's plans, primary first (an empty list takes them off file)."""

    coverages: list[PlanOnFile] = Field(max_length=4)


class ClaimCorrection(Body):
    """What a technician corrects on a paid claim; the BIN and PCN stay (another plan is a new claim)."""

    coverage: CoverageCorrection | None = None
    clarification_codes: Annotated[tuple[str, ...], AfterValidator(valid_clarification_codes)] = ()
    reason: str | None = None


@router.get("/patients/{patient_id}/coverages", response_model=PlansOnFile)
def plans_on_file(
    patient_id: str, engine: DbEngine, audit: Audit, user: User = Depends(require(*HANDS_ON))
) -> PlansOnFile:
    """The patient's plans on file, primary first (member ids are patient details: the read is audited)."""
    with read_connection(engine) as conn:
        _known(conn, patient_id)
        plans = PatientCoverages(conn).ordered(patient_id)
    audit.record(actor=user.name, role=user.role, action="read patient coverages", patient_id=patient_id)
    return PlansOnFile(coverages=[PlanOnFile(**c.model_dump(exclude_none=True, exclude={"plan_name"})) for c in plans])


@router.put("/patients/{patient_id}/coverages", response_model=PlansOnFile)
def put_plans_on_file(
    patient_id: str, body: PlansOnFile, engine: DbEngine, audit: Audit, user: User = Depends(require(*HANDS_ON))
) -> PlansOnFile:
    """Put the patient's plans on file in billing order; who changed which positions is audited (not values)."""
    with engine.begin() as conn:
        _known(conn, patient_id)
        PatientCoverages(conn).replace(
            patient_id, [CoverageInfo(**p.model_dump(exclude_none=True)) for p in body.coverages]
        )
    audit.record(
        actor=user.name,
        role=user.role,
        action="patient-coverages-put",
        patient_id=patient_id,
        detail={"plans": len(body.coverages)},
    )
    return body


@router.post("/prescriptions/{prescription_id}/claim-correction", status_code=202, response_model=Accepted)
async def correct_paid_claim(
    prescription_id: str,
    body: ClaimCorrection,
    request: Request,
    user: User = Depends(require(*HANDS_ON)),
    idempotency_key: str | None = Header(default=None),
) -> Accepted:
    """Rebill (B3) a paid claim with corrected data, before the pharmacist's data verification is done."""
    command = CorrectPaidClaim(
        prescription_id=prescription_id,
        coverage=body.coverage.coverage() if body.coverage else None,
        clarification_codes=body.clarification_codes,
        reason=body.reason,
    )
    return await act(request, user, prescription_id, command, idempotency_key, (RxState.DATA_VERIFICATION,))


def _known(conn: Connection, patient_id: str) -> None:
    if PartyRepository(conn).patient(patient_id) is None:
        raise HTTPException(404, {"reason": "no such patient"})
