"""How often a dose is given, as the hub keeps it: an HL7 table 0335 repeat code (QD, BID, Q6H, PRN).

FHIR Timing and SCRIPT structured Sigs say it as "n times per period" or "every n units"; each door
names the unit and this turns it into the one code every outbound feed writes (TQ1-3, RXE-1 interval).
"""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum


class TimeUnit(StrEnum):
    """Units a repeat is counted in, with their table 0335 letter."""

    SECOND = "S"
    MINUTE = "M"
    HOUR = "H"
    DAY = "D"
    WEEK = "W"
    MONTH = "L"


#: n times a day -> code
_PER_DAY = {1: "QD", 2: "BID", 3: "TID", 4: "QID"}


def _whole(value: Decimal | None) -> int | None:
    return int(value) if value is not None and value > 0 and value == value.to_integral() else None


def repeat_code(times: Decimal | None, period: Decimal | None, unit: TimeUnit | None) -> str | None:
    """``times`` per ``period`` ``unit`` as a table 0335 code; None when it has no such code (e.g. 1.5/day)."""
    count, every = (
        _whole(times if times is not None else Decimal(1)),
        _whole(period if period is not None else Decimal(1)),
    )
    if count is None or every is None or unit is None:
        return None
    if unit is TimeUnit.DAY and every == 1:
        return _PER_DAY.get(count, f"{count}ID" if count > 1 else None)
    if count == 1:
        return f"Q{every}{unit.value}"
    return None
