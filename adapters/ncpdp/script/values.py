"""Typed values out of SCRIPT elements: dates, counts, quantities, flags; bad ones become problems."""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal

from adapters.ncpdp.script.cursor import Cursor

#: datatypes.xsd: quantities are decimal numbers, never signed, NaN or exponent forms
_DECIMAL = re.compile(r"\d{1,11}(\.\d{1,9})?|\.\d{1,9}")
_COUNT = re.compile(r"\d{1,9}")


def date_of(element: Cursor) -> date | None:
    """A DateType element: ``Date`` (YYYY-MM-DD) or ``DateTime`` (ISO 8601, date part kept)."""
    day = element.at("Date")
    if day.present:
        text = day.required_text()
        try:
            return date.fromisoformat(text) if text is not None else None
        except ValueError:
            day.invalid(f"{text!r} is not a date (YYYY-MM-DD)")
            return None
    moment = element.at("DateTime")
    if moment.present:
        text = moment.required_text()
        try:
            return datetime.fromisoformat(text).date() if text is not None else None
        except ValueError:
            moment.invalid(f"{text!r} is not an ISO 8601 date-time")
            return None
    if element.present:
        element.invalid("date needs a Date or DateTime child")
    return None


def count_of(element: Cursor, *, maximum: int) -> int | None:
    """A non-negative whole number no larger than ``maximum`` (DaysSupply, NumberOfRefills)."""
    text = element.text()
    if text is None:
        if element.present:
            element.invalid("number is empty")
        return None
    if not _COUNT.fullmatch(text) or int(text) > maximum:
        element.invalid(f"{text!r} is not a whole number from 0 to {maximum}")
        return None
    return int(text)


def decimal_of(element: Cursor) -> Decimal | None:
    """A non-negative decimal (Quantity/Value, n1..11 with decimals)."""
    text = element.required_text()
    if text is None:
        return None
    if not _DECIMAL.fullmatch(text):
        element.invalid(f"{text!r} is not a non-negative decimal number")
        return None
    return Decimal(text)
