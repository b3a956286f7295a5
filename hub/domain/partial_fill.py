"""Short stock: a partial fill is a person's decision with its reason, within the limits of 21 CFR 1306.13.

When the shelf cannot cover a fill, the fill waits in the fill queue showing what is short and a choice: fill
part now (a partial fill, the rest owed) or wait for stock. Nothing is partial-filled without that decision.
For schedule II the remaining portion must follow within 72 hours when the pharmacy could not supply it
(1306.13(a)), or within 30 days of the date written when the patient or prescriber asked for less
(1306.13(b)); the total dispensed never exceeds the quantity prescribed. Past that deadline the rest is not
dispensable at all: the patient needs a new prescription.

A payer hears of it as NCPDP D.0 343-HD: P on the claim of the part dispensed now (442-E7 that part, 344-HF /
345-HG the whole fill intended), C on the claim of the rest, billed on the same Rx and fill number.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal
from enum import StrEnum

from pydantic import Field

from hub.domain.actors import Actor, Role
from hub.domain.order_parts import Frozen
from hub.errors import DomainError, NotAuthorized

#: the DEA schedule 1306.13 applies to
SCHEDULE_II = "2"
#: 1306.13(a): the pharmacy could not supply the full quantity
CII_SHORT_SUPPLY = timedelta(hours=72)
#: 1306.13(b): the patient or prescriber asked for less
CII_REQUESTED = timedelta(days=30)


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
    decided_by: str
    at: datetime


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


def completion_deadline(schedule: str | None, decision: PartialDecision, written: date) -> datetime | None:
    """When the remaining portion of a schedule II partial fill may last be dispensed; None outside schedule II."""
    if schedule != SCHEDULE_II:
        return None
    if decision.requested_by is RequestedBy.PHARMACY:
        return decision.at + CII_SHORT_SUPPLY
    return datetime.combine(written, time.max, tzinfo=decision.at.tzinfo) + CII_REQUESTED


def check_completion(schedule: str | None, decision: PartialDecision, written: date, now: datetime) -> None:
    """Refuse the remaining portion of a schedule II prescription after its 1306.13 deadline."""
    deadline = completion_deadline(schedule, decision, written)
    if deadline is not None and now > deadline:
        rule = (
            "72 hours of the partial fill"
            if decision.requested_by is RequestedBy.PHARMACY
            else "30 days of the date written"
        )
        raise PartialFillRefused(
            f"the rest of a schedule II partial fill must be dispensed within {rule} "
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
