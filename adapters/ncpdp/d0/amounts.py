"""D.0 numeric formats: signed overpunch money s9(n)v99 and implied-decimal quantities 9(7)v999.

Source: standards.md §4.1 (NCPDP data dictionary excerpt): the last character of a money field carries
both the last digit and the sign, ``{``=+0, ``A``-``I``=+1..9, ``}``=-0, ``J``-``R``=-1..9.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from hub.domain.claim_codes import SYNTAX_ERROR_CODE
from hub.errors import MessageContentError, Problem

_POSITIVE = "{ABCDEFGHI"
_NEGATIVE = "}JKLMNOPQR"
_MONEY_PLACES = 2
_QUANTITY_PLACES = 3


def _bad(kind: str, text: str, location: str) -> MessageContentError:
    problem = Problem(code=SYNTAX_ERROR_CODE, text=f"invalid {kind} {text!r}", location=location)
    return MessageContentError(problem.text, [problem])


def decode_overpunch(text: str, location: str = "") -> Decimal:
    """Read a signed overpunch money value (``500{`` -> 50.00, ``J`` -> -0.01)."""
    last = text[-1:]
    head = text[:-1]
    if not last or not head.isascii() or (head and not head.isdigit()):
        raise _bad("overpunch amount", text, location)
    if last in _POSITIVE:
        sign, digit = 0, _POSITIVE.index(last)
    elif last in _NEGATIVE:
        sign, digit = 1, _NEGATIVE.index(last)
    else:
        raise _bad("overpunch amount", text, location)
    digits = (*(int(c) for c in head.lstrip("0")), digit)
    return Decimal((sign, digits, -_MONEY_PLACES))


def encode_overpunch(amount: Decimal, width: int = 0) -> str:
    """Write a money value with two implied decimals as overpunch, left-padded with zeros to ``width``."""
    cents = _scaled(amount, _MONEY_PLACES, "amount")
    digits = str(abs(cents)).zfill(max(width, 1))
    table = _NEGATIVE if amount.is_signed() else _POSITIVE
    return digits[:-1] + table[int(digits[-1])]


def decode_quantity(text: str, location: str = "") -> Decimal:
    """Read an unsigned 9(7)v999 quantity (``30000`` -> 30.000)."""
    if not text or not text.isascii() or not text.isdigit():
        raise _bad("quantity", text, location)
    return Decimal(int(text)).scaleb(-_QUANTITY_PLACES)


def encode_quantity(quantity: Decimal, width: int = 0) -> str:
    """Write a non-negative quantity with three implied decimals (30 -> ``30000``)."""
    thousandths = _scaled(quantity, _QUANTITY_PLACES, "quantity")
    if thousandths < 0:
        raise ValueError(f"quantity must not be negative: {quantity}")
    return str(thousandths).zfill(max(width, 1))


def _scaled(value: Decimal, places: int, kind: str) -> int:
    """The value as an integer count of 10**-places units; refuses values needing more places."""
    try:
        scaled = value.scaleb(places)
        whole = scaled.to_integral_value()
    except InvalidOperation as exc:
        raise ValueError(f"{kind} is not a finite number: {value}") from exc
    if not value.is_finite() or scaled != whole:
        raise ValueError(f"{kind} has more than {places} decimal places: {value}")
    return int(whole)
