"""The claim record a retail fill carries: submitted (B1), paid, rejected, reversal due, reversed (B2)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from hub.domain.claim_codes import DUR_REJECT_CODE as DUR_REJECT_CODE
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


#: NCPDP 420-DK submission clarification codes a technician may pick on a resubmission (standards §4.2)
CLARIFICATION_CODES = {
    "01": "No override",
    "02": "Other override",
    "03": "Vacation supply",
    "04": "Lost prescription",
    "05": "Therapy change",
    "06": "Starter dose",
    "07": "Medically necessary",
    "08": "Process compound for approved ingredients",
    "99": "Other",
}
#: 420-DK repeats at most three times
MAX_CLARIFICATION_CODES = 3


def valid_clarification_codes(codes: tuple[str, ...]) -> tuple[str, ...]:
    """Known 420-DK codes as two digits (``3`` -> ``03``), at most three, no repeats; ValueError otherwise."""
    normal = tuple(dict.fromkeys(c.strip().zfill(2) for c in codes))
    unknown = [c for c in normal if c not in CLARIFICATION_CODES]
    if unknown:
        known = ", ".join(CLARIFICATION_CODES)
        raise ValueError(f"unknown 420-DK submission clarification codes {unknown}; known: {known}")
    if len(normal) > MAX_CLARIFICATION_CODES:
        raise ValueError(f"at most {MAX_CLARIFICATION_CODES} submission clarification codes")
    return normal


class DurPps(Frozen):
    """DUR/PPS codes sent with a resubmission (D.0 439-E4 reason, 440-E5 service, 441-E6 result)."""

    reason_for_service: str
    professional_service: str
    result_of_service: str


class PayerDurAlert(Frozen):
    """One DUR/PPS finding a payer returned with its answer (D.0 AM24), for the pharmacist to review."""

    #: 439-E4 reason for service (DD drug-drug, TD therapeutic duplication, ER early refill...)
    reason: str | None = None
    #: 528-FS clinical significance: 1 major, 2 moderate, 3 minor, blank not specified
    clinical_significance: str | None = None
    #: 529-FT other pharmacy indicator (unverified values: 1 this pharmacy, 3 another pharmacy)
    other_pharmacy: str | None = None
    previous_fill_date: date | None = None
    #: 531-FV as sent
    previous_fill_quantity: str | None = None
    database: str | None = None
    other_prescriber: str | None = None
    free_text: str | None = None

    def describe(self) -> str:
        """The alert text a pharmacist reads."""
        parts = [f"Payer DUR {self.reason or '??'}"]
        if self.free_text:
            parts.append(self.free_text.strip())
        if self.other_pharmacy:
            parts.append(_OTHER_PHARMACY.get(self.other_pharmacy, f"pharmacy indicator {self.other_pharmacy}"))
        if self.previous_fill_date:
            quantity = f", quantity {self.previous_fill_quantity.strip()}" if self.previous_fill_quantity else ""
            parts.append(f"previous fill {self.previous_fill_date.isoformat()}{quantity}")
        if self.other_prescriber:
            parts.append(f"prescriber indicator {self.other_prescriber}")
        return "; ".join(parts)


_OTHER_PHARMACY = {
    "0": "pharmacy not specified",
    "1": "filled at this pharmacy",
    "2": "filled at another pharmacy of the chain",
    "3": "filled at another pharmacy",
}


class Claim(BaseModel):
    """The latest claim for a fill and what the payer said about it."""

    model_config = ConfigDict(extra="forbid")

    status: ClaimStatus
    #: which of the patient's coverages this claim bills: 1 primary, 2 secondary... (coordination of benefits)
    payer: int = 1
    #: a B3 rebill of the fill's paid claim (same payer and date of service, corrected data)
    rebill: bool = False
    bin: str | None = None
    pcn: str | None = None
    group_id: str | None = None
    cardholder_id: str | None = None
    #: NCPDP 303-C3 person code, when a technician corrected it (else the pharmacy's default)
    person_code: str | None = None
    amount_requested: Decimal | None = None
    #: 1 for the fill's first B1, +1 for each resubmission, rebill or claim to the next payer: unique per fill
    attempt: int = 1
    #: when it was billed; its date is the date of service (a rebill keeps the paid claim's)
    submitted_at: datetime | None = None
    prior_auth_number: str | None = None
    dur_pps: DurPps | None = None
    total_paid: Decimal | None = None
    patient_pay: Decimal | None = None
    authorization_number: str | None = None
    reject_codes: list[str] = []
    payer_message: str | None = None
    #: NCPDP 420-DK submission clarification codes the technician picked for this attempt
    clarification_codes: list[str] = []
    #: DUR/PPS findings the payer returned with a paid answer (AM24)
    payer_dur: list[PayerDurAlert] = []
    answered_at: datetime | None = None
    reversal_reason: str | None = None
    reversed_at: datetime | None = None

    @property
    def needs_pharmacist_to_resubmit(self) -> bool:
        """True when the payer asked for DUR/PPS codes (reject 88)."""
        return DUR_REJECT_CODE in self.reject_codes
