"""HL7 v2 primitive values (DT/DTM, NM) read into Python values, each failure a located 102 problem."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal, InvalidOperation

from hub.errors import Problem

_DATE = re.compile(r"([0-9]{4})([0-9]{2})([0-9]{2})")
_REDUCED_PRECISION = re.compile(r"[0-9]{4}([0-9]{2})?")
#: refill counts and the like beyond this are a sender's error, and int() of 1E999999999 would hang
_MAX_COUNT = 9999


def read_date(value: str, location: str, problems: list[Problem]) -> date | None:
    """The date part of a DT/DTM/TS (``YYYYMMDD[HHMM[SS[.S]]][+ZZZZ]``); ``YYYY``/``YYYYMM`` give None."""
    if not value or _REDUCED_PRECISION.fullmatch(value):
        return None
    match = _DATE.match(value)
    try:
        if match is None:
            raise ValueError(value)
        return date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        problems.append(Problem("102", f"{value!r} is not an HL7 date (YYYYMMDD...)", location))
        return None


def read_decimal(value: str, location: str, problems: list[Problem]) -> Decimal | None:
    """An NM value; empty gives None."""
    if not value:
        return None
    try:
        number = Decimal(value.strip())
    except InvalidOperation:
        number = Decimal("NaN")
    if not number.is_finite() or number < 0:
        problems.append(Problem("102", f"{value!r} is not a non-negative number", location))
        return None
    return number


def read_count(value: str, location: str, problems: list[Problem]) -> int | None:
    """A whole non-negative NM value such as a refill count; empty gives None."""
    number = read_decimal(value, location, problems)
    if number is None:
        return None
    if number > _MAX_COUNT or number != number.to_integral_value():
        problems.append(Problem("102", f"{value!r} is not a plausible whole number", location))
        return None
    return int(number)
