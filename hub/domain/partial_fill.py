"""Short stock: a partial fill is a person's decision with its reason, within the limits of 21 CFR 1306.13.

When the shelf cannot cover a fill, the fill waits in the fill queue showing what is short and a choice: fill
part now (a partial fill, the rest owed) or wait for stock. Nothing is partial-filled without that decision.
For schedule II the remaining portion must follow within 72 hours when the pharmacy could not supply it
(1306.13(a)), or within 30 days of the date written when the patient or prescriber asked for less
(21 U.S.C. 829(f)). A pharmacist who records the patient as "terminally ill" or an "LTCF patient" has 60 days
from the date written for the rest instead (1306.13(b)). The total dispensed never
exceeds the quantity prescribed. Past the deadline the rest is not dispensable at all: the patient needs a
new prescription.

A payer hears of it as NCPDP D.0 343-HD: P on the claim of the part dispensed now (442-E7 that part, 344-HF /
345-HG the whole fill intended), C on the claim of the rest, billed on the same Rx and fill number.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal
from enum import StrEnum

from pydantic import Field

from hub.domain.actors import Actor, Role, require_pharmacist
from hub.domain.order_parts import Frozen
from hub.errors import DomainError, NotAuthorized

#: the DEA schedule 1306.13 applies to
SCHEDULE_II = "2"
#: 1306.13(a): the pharmacy could not supply the full quantity
CII_SHORT_SUPPLY = timedelta(hours=72)
#: 21 U.S.C. 829(f): the patient or prescriber asked for less
CII_REQUESTED = timedelta(days=30)
#: 1306.13(b): a terminally ill or long-term care facility patient, the rest in portions
CII_LTCF_OR_TERMINAL = timedelta(days=60)


class DispensingStatus(StrEnum):
    """NCPDP 343-HD: part of a fill dispensed now (P), and the later dispense of its rest (C)."""

    PARTIAL = "P"
    COMPLETION = "C"


class ShortStockChoice(StrEnum):
    """What the pharmacist or technician chose for a fill the shelf cannot cover."""

    PARTIAL = "partial"
    WAIT = "wait"


class RequestedBy(StrEnum):
    """Why part is dispensed: the pharmacy is short, or the patient or prescriber asked for less."""

    PHARMACY = "pharmacy"
    PATIENT = "patient"
    PRESCRIBER = "prescriber"


class PatientDesignation(StrEnum):
    """1306.13(b): what the pharmacist records on a schedule II prescription to partial-fill it over 60 days,
    in the regulation's words."""

    TERMINALLY_ILL = "terminally ill"
    LTCF_PATIENT = "LTCF patient"


class ShortStock(Frozen):
    """What the last pick found: shown on the fill until someone decides."""

    available: Decimal
    needed: Decimal
    at: datetime


class PartialDecision(Frozen):
    """Who chose a partial fill or to wait for stock, when and why."""

    choice: ShortStockChoice
    reason: str = Field(min_length=1, max_length=200)
    requested_by: RequestedBy = RequestedBy.PHARMACY
    #: 1306.13(b), recorded by a pharmacist only: the rest may follow in portions within 60 days of writing
    designation: PatientDesignation | None = None
    decided_by: str
    at: datetime


class PartialClosure(Frozen):
    """A partial fill whose rest will never be dispensed (the patient declined it, or its deadline passed): who
    closed it, when, why and what stopped being owed. With a payer, the P claim is reversed (B2) and what was
    dispensed billed again as a whole fill (B1, no 343-HD) on attempt ``billed_attempt``."""

    reason: str = Field(min_length=1, max_length=200)
    closed_by: str
    at: datetime
    owed_cancelled: Decimal
    billed_attempt: int | None = None


class ShortStockUndecided(DomainError):
    """The shelf cannot cover the fill and nobody chose a partial fill: it waits for the choice."""


class PartialFillRefused(DomainError):
    """A partial fill or its completion the law or the prescription does not allow."""


def require_hands_on(actor: Actor) -> None:
    """A partial fill is decided by the pharmacist or a technician, never by the hub on its own."""
    if actor.role not in (Role.PHARMACIST, Role.TECHNICIAN):
        raise NotAuthorized(
            f"only a pharmacist or technician may decide a partial fill; {actor.user_id} is a {actor.role.value}"
        )


def require_designation_by_pharmacist(actor: Actor, designation: PatientDesignation | None) -> None:
    """1306.13(b): only a pharmacist records a patient as terminally ill or an LTCF patient."""
    if designation is not None:
        require_pharmacist(actor, f"record a patient as {designation.value!r} (21 CFR 1306.13(b))")


def completion_deadline(schedule: str | None, decision: PartialDecision, written: date) -> datetime | None:
    """When the remaining portion of a schedule II partial fill may last be dispensed; None outside schedule II."""
    if schedule != SCHEDULE_II:
        return None
    end_of_writing = datetime.combine(written, time.max, tzinfo=decision.at.tzinfo)
    if decision.designation is not None:
        return end_of_writing + CII_LTCF_OR_TERMINAL
    if decision.requested_by is RequestedBy.PHARMACY:
        return decision.at + CII_SHORT_SUPPLY
    return end_of_writing + CII_REQUESTED


def _rule_of(decision: PartialDecision) -> str:
    if decision.designation is not None:
        return f"60 days of the date written for a patient recorded as {decision.designation.value!r}"
    if decision.requested_by is RequestedBy.PHARMACY:
        return "72 hours of the partial fill"
    return "30 days of the date written"


def check_completion(schedule: str | None, decision: PartialDecision, written: date, now: datetime) -> None:
    """Refuse the remaining portion of a schedule II prescription after its 1306.13 deadline."""
    deadline = completion_deadline(schedule, decision, written)
    if deadline is not None and now > deadline:
        raise PartialFillRefused(
            f"the rest of a schedule II partial fill must be dispensed within {_rule_of(decision)} "
            f"(21 CFR 1306.13), by {deadline.isoformat()}; a new prescription is needed"
        )


def check_total(prescribed: Decimal | None, dispensed: Decimal, more: Decimal) -> None:
    """Refuse a dispense that would take the total above the quantity prescribed."""
    if prescribed is not None and dispensed + more > prescribed:
        raise PartialFillRefused(f"{dispensed} dispensed and {more} more would exceed the {prescribed} prescribed")


def days_for(part: Decimal, whole: Decimal | None, days_intended: int | None) -> int | None:
    """Days supply of ``part`` of a fill intended to last ``days_intended`` days: in proportion, at least one."""
    if days_intended is None or not whole:
        return days_intended
    return max(1, int(days_intended * part / whole))
