"""The claim record a retail fill carries: submitted (B1), paid, rejected, reversal due, reversed (B2)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from hub.domain.order_parts import Frozen

#: a price the patient pays in cash: dollars and cents, never negative
CashPrice = Annotated[Decimal, Field(ge=0, max_digits=10, decimal_places=2)]


class ClaimStatus(StrEnum):
    """Where the fill's claim stands with the payer."""

    SUBMITTED = "submitted"
    PAID = "paid"
    REJECTED = "rejected"
    #: paid, then the fill was not sold: a B2 must be sent
    REVERSAL_REQUIRED = "reversal_required"
    REVERSED = "reversed"
    #: the patient pays; no payer involved
    CASH = "cash"


#: D.0 511-FB reject code answered with DUR/PPS codes, a pharmacist's clinical decision (standards §4.4)
DUR_REJECT_CODE = "88"


class DurPps(Frozen):
    """DUR/PPS codes sent with a resubmission (D.0 439-E4 reason, 440-E5 service, 441-E6 result)."""

    reason_for_service: str
    professional_service: str
    result_of_service: str


class Claim(BaseModel):
    """The latest claim for a fill and what the payer said about it."""

    model_config = ConfigDict(extra="forbid")

    status: ClaimStatus
    bin: str | None = None
    pcn: str | None = None
    group_id: str | None = None
    cardholder_id: str | None = None
    amount_requested: Decimal | None = None
    #: 1 for the first B1, +1 for each resubmission
    attempt: int = 1
    submitted_at: datetime | None = None
    prior_auth_number: str | None = None
    dur_pps: DurPps | None = None
    total_paid: Decimal | None = None
    patient_pay: Decimal | None = None
    authorization_number: str | None = None
    reject_codes: list[str] = []
    payer_message: str | None = None
    answered_at: datetime | None = None
    reversal_reason: str | None = None
    reversed_at: datetime | None = None

    @property
    def needs_pharmacist_to_resubmit(self) -> bool:
        """True when the payer asked for DUR/PPS codes (reject 88)."""
        return DUR_REJECT_CODE in self.reject_codes
