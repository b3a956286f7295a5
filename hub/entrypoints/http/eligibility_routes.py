"""E1 eligibility checks before billing: a technician asks the plan whether the patient is covered.

The check travels through the claim worker and the payer exchange like a claim and is kept in the claim ledger
(transaction E1); its answer is read back here: pending, A (covered), R (rejected, with codes) or timeout.
"""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Depends, Header, HTTPException, Request
from sqlalchemy import select

from hub.config import Settings
from hub.domain.eligibility import CheckEligibility, eligibility_exchange_id
from hub.domain.order_parts import CoverageInfo
from hub.entrypoints.http.auth import require
from hub.entrypoints.http.dependencies import DbEngine, HubSettings
from hub.entrypoints.http.staff_commands import send_command
from hub.entrypoints.http.staff_models import Accepted, Body, CoverageCorrection
from hub.persistence.database import read_connection
from hub.persistence.parties import PartyRepository
from hub.persistence.tables import claim_transmissions
from hub.persistence.users import User

router = APIRouter(prefix="/api", tags=["staff"])


class EligibilityQuestion(Body):
    """Which plan to ask: the coverage on file, with any field given here instead."""

    coverage: CoverageCorrection | None = None


class EligibilityAccepted(Accepted):
    """The check is queued; its answer: ``GET /api/eligibility/{check_id}``."""

    check_id: str


@router.post("/patients/{patient_id}/eligibility", status_code=202, response_model=EligibilityAccepted)
async def check_eligibility(
    patient_id: str,
    body: EligibilityQuestion,
    request: Request,
    engine: DbEngine,
    settings: HubSettings,
    user: User = Depends(require("technician", "pharmacist")),
    idempotency_key: str | None = Header(default=None),
) -> EligibilityAccepted:
    """Send an E1 for the patient; 404 for an unknown patient, 422 when no plan (BIN) is known to ask."""
    with read_connection(engine) as conn:
        parties = PartyRepository(conn)
        if parties.patient(patient_id) is None:
            raise HTTPException(404, {"reason": "no such patient"})
        on_file = parties.coverage(patient_id)
    coverage = _coverage(settings, on_file, body.coverage)
    if coverage.bin is None:
        raise HTTPException(422, {"reason": "no BIN on file or given: the plan to ask is unknown"})
    check_id = str(uuid.uuid4())
    command = CheckEligibility(check_id=check_id, patient_id=patient_id, coverage=coverage)
    accepted = await send_command(
        request,
        user,
        command,
        correlation_id=uuid.UUID(check_id),
        prescription_id=None,
        idempotency_key=idempotency_key,
        detail={"check_id": check_id},
    )
    return EligibilityAccepted(**accepted.model_dump(), check_id=check_id)


@router.get("/eligibility/{check_id}")
def eligibility_answer(
    check_id: str, engine: DbEngine, user: User = Depends(require("technician", "pharmacist"))
) -> dict[str, Any]:
    """What the plan answered: ``pending`` until it does, ``eligible`` true for A, false for R or no answer."""
    c = claim_transmissions.c
    with read_connection(engine) as conn:
        sent = conn.execute(
            select(c.status, c.reject_codes).where(c.exchange_id == eligibility_exchange_id(check_id))
        ).first()
    status = (sent.status if sent else None) or "pending"
    codes = [code for code in ((sent.reject_codes if sent else None) or "").split(",") if code]
    return {
        "check_id": check_id,
        "status": status,
        "eligible": None if status == "pending" else status == "A",
        "reject_codes": codes,
    }


def _coverage(settings: Settings, on_file: CoverageInfo | None, given: CoverageCorrection | None) -> CoverageInfo:
    base = on_file or CoverageInfo(bin=settings.default_bin, pcn=settings.default_pcn, group_id=settings.default_group)
    if given is None:
        return base
    return base.model_copy(update=given.model_dump(exclude_none=True))
