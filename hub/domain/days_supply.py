"""Days supply from quantity and directions, as a technician works it out at data entry.

HL7 v2 orders carry no days-supply field, yet every claim needs one (NCPDP 405-D5). Only plain, common
directions are read ("take 1 tablet twice daily", "every 8 hours", "inject 10 units before meals"); anything
else returns None and the claim's M/I reject (19) puts it in front of a technician.
"""

from __future__ import annotations

import math
import re
from decimal import Decimal

_PER_DAY: tuple[tuple[str, Decimal], ...] = (
    (r"\b(four times (a|per) day|four times daily|qid|q\.i\.d\.?)\b", Decimal(4)),
    (r"\b(three times (a|per) day|three times daily|tid|t\.i\.d\.?)\b", Decimal(3)),
    (r"\b(twice (a|per) day|twice daily|two times (a|per) day|bid|b\.i\.d\.?)\b", Decimal(2)),
    (
        r"\b(once (a|per) day|once daily|daily|every day|each day|qd|at bedtime|qhs|every morning|every evening)\b",
        Decimal(1),
    ),
    # meal-timed directions without an explicit count: three meals a day
    (r"\b(before meals|with meals|after meals|ac|pc)\b", Decimal(3)),
)
_EVERY_HOURS = re.compile(r"\b(?:every|q)\s*(\d{1,2})\s*(?:h|hr|hrs|hours?)\b")
_DOSE = re.compile(r"\b(\d+(?:\.\d+)?)\s*(tablets?|tabs?|capsules?|caps?|units?|puffs?|ml)\b")
_CONCENTRATION = re.compile(r"(\d+(?:\.\d+)?)\s*units?/ml")


def doses_per_day(sig: str) -> Decimal | None:
    """How many times a day the directions say to take it."""
    text = sig.casefold()
    hours = _EVERY_HOURS.search(text)
    if hours and 0 < int(hours.group(1)) <= 24:
        return Decimal(24) / Decimal(int(hours.group(1)))
    for pattern, per_day in _PER_DAY:
        if re.search(pattern, text):
            return per_day
    return None


def estimate_days_supply(
    quantity: Decimal | None, unit: str | None, sig: str | None, strength: str | None = None
) -> int | None:
    """Whole days the quantity lasts at the directed dose, or None when the directions do not say."""
    if quantity is None or quantity <= 0 or not sig:
        return None
    per_day = doses_per_day(sig)
    if per_day is None:
        return None
    dose_match = _DOSE.search(sig.casefold())
    dose, dose_unit = (Decimal(dose_match.group(1)), dose_match.group(2)) if dose_match else (Decimal(1), "")
    amount = quantity
    if dose_unit.startswith("unit") and (unit or "").casefold() in ("ml", "milliliter"):
        concentration = _CONCENTRATION.search((strength or "").casefold())
        if concentration is None:
            return None
        amount = quantity * Decimal(concentration.group(1))
    daily = dose * per_day
    if daily <= 0:
        return None
    return max(1, math.floor(amount / daily))
