"""An E1 eligibility check: is this patient covered by this plan, asked before billing (D.0 E1)."""

from __future__ import annotations

from datetime import date
from typing import ClassVar

from pydantic import Field

from hub.domain.claim_exchange import ClaimPatient
from hub.domain.messages import Command
from hub.domain.order_parts import CoverageInfo, Frozen

#: the claim ledger's transaction code and purpose for an eligibility check
ELIGIBILITY = "E1"


def eligibility_exchange_id(check_id: str) -> str:
    """The ledger's and the payer's id of a check: shaped like a claim's, with fill 0 and attempt 1."""
    return f"{check_id}:0:1:{ELIGIBILITY}"


class CheckEligibility(Command):
    """A technician asks a plan whether the patient is covered (coverage resolved at the door)."""

    name: ClassVar[str] = "CheckEligibility"
    #: a UUID: the check's id in the claim ledger (its prescription_id column)
    check_id: str = Field(min_length=36, max_length=36)
    patient_id: str
    coverage: CoverageInfo


class EligibilityRequestData(Frozen):
    """What an E1 says: routing, the member and the patient."""

    exchange_id: str
    bin: str
    pcn: str | None = None
    group_id: str | None = None
    cardholder_id: str | None = None
    person_code: str | None = None
    relationship: str | None = None
    patient: ClaimPatient
    pharmacy_npi: str
    date_of_service: date
