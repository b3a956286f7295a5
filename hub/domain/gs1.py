"""GS1 barcode text as a scanner types it: GTIN (01), expiry (17) and lot (10) of a drug package.

A US drug package's GTIN-14 holds its NDC: indicator digit, ``03``, the 10-digit NDC, check digit (GS1 US
Healthcare guideline). Those 10 digits carry no dashes, so which segment to pad to NDC-11 is not in the
barcode: ``ndc11_candidates`` gives the three readings and the catalogue decides (standards §6).

Accepted: element strings with parentheses, ``(01)00301430957010(17)250630(10)ABC123``, and the raw form a
scanner sends, with an optional symbology identifier (``]d2``, ``]C1``, ``]Q3``) and the group separator
(ASCII 29) ending a variable-length field.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from hub.errors import DomainError

_GS = "\x1d"
_SYMBOLOGY = re.compile(r"^\](?:d2|C1|Q3|e0)")
#: fixed lengths of the AIs a drug package carries (GS1 General Specifications, figure 5.10.1-2)
_FIXED = {"00": 18, "01": 14, "02": 14, "11": 6, "12": 6, "13": 6, "15": 6, "16": 6, "17": 6, "20": 2}
#: variable-length AIs read up to a group separator (or the end): lot, serial, count, NHRN (US)
_VARIABLE = {"10": 20, "21": 20, "30": 8, "37": 8, "240": 30, "710": 20, "711": 20, "712": 20, "713": 20}
_PAREN = re.compile(r"\((\d{2,4})\)([^()]*)")


class InvalidBarcode(DomainError):
    """Barcode text that cannot be read as GS1 element strings of a US drug package."""


@dataclass(frozen=True)
class PackageScan:
    """What a drug package's barcode says."""

    gtin: str
    ndc10: str
    lot: str | None
    expiry: date | None


def gtin_check_digit(digits: str) -> int:
    """The GS1 mod-10 check digit of ``digits`` (weights 3, 1, 3, ... from the right)."""
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(digits)))
    return (10 - total % 10) % 10


def parse_package(text: str, today: date) -> PackageScan:
    """The GTIN, NDC digits, lot and expiry of a scanned drug package; ``InvalidBarcode`` otherwise."""
    fields = _element_strings(text.strip())
    gtin = fields.get("01")
    if gtin is None:
        raise InvalidBarcode("no GTIN (01) in the barcode")
    if len(gtin) != 14 or not gtin.isascii() or not gtin.isdigit():
        raise InvalidBarcode(f"GTIN (01) must be 14 digits: {gtin!r}")
    if gtin_check_digit(gtin[:13]) != int(gtin[13]):
        raise InvalidBarcode(f"GTIN {gtin} fails its check digit")
    if gtin[1:3] != "03":
        raise InvalidBarcode(f"GTIN {gtin} holds no US NDC (it does not start 003 or n03)")
    expiry = fields.get("17")
    return PackageScan(
        gtin=gtin,
        ndc10=gtin[3:13],
        lot=fields.get("10"),
        expiry=expiry_date(expiry, today) if expiry is not None else None,
    )


def ndc11_candidates(ndc10: str) -> tuple[str, str, str]:
    """The NDC-11 of 10 NDC digits read as 4-4-2, 5-3-2 and 5-4-1."""
    if len(ndc10) != 10 or not ndc10.isdigit():
        raise InvalidBarcode(f"not 10 NDC digits: {ndc10!r}")
    return ("0" + ndc10, ndc10[:5] + "0" + ndc10[5:], ndc10[:9] + "0" + ndc10[9])


def expiry_date(yymmdd: str, today: date) -> date:
    """AI (17): YYMMDD, DD ``00`` meaning the month's last day; the century by GS1's sliding window (7.12):
    a year more than 50 ahead of today's is of the last century, one more than 49 behind of the next."""
    if len(yymmdd) != 6 or not yymmdd.isascii() or not yymmdd.isdigit():
        raise InvalidBarcode(f"expiry (17) is not YYMMDD: {yymmdd!r}")
    yy, month, day = int(yymmdd[:2]), int(yymmdd[2:4]), int(yymmdd[4:])
    year = today.year // 100 * 100 + yy
    if year - today.year > 50:
        year -= 100
    elif today.year - year > 49:
        year += 100
    try:
        if day == 0:
            return date(year + month // 12, month % 12 + 1, 1) - timedelta(days=1)
        return date(year, month, day)
    except ValueError:
        raise InvalidBarcode(f"expiry (17) is no date: {yymmdd!r}") from None


def _element_strings(text: str) -> dict[str, str]:
    if text.startswith("("):
        found = _PAREN.findall(text)
        if "".join(f"({ai}){value}" for ai, value in found) != text:
            raise InvalidBarcode("barcode text with parentheses must be (AI)value pairs only")
        return {ai: value for ai, value in found}
    return _raw(_SYMBOLOGY.sub("", text))


def _raw(text: str) -> dict[str, str]:
    fields: dict[str, str] = {}
    rest = text.lstrip(_GS)
    while rest:
        ai = next((rest[:n] for n in (2, 3, 4) if rest[:n] in _FIXED or rest[:n] in _VARIABLE), None)
        if ai is None:
            raise InvalidBarcode(f"unknown application identifier at {rest[:4]!r}")
        rest = rest[len(ai) :]
        if ai in _FIXED:
            value, rest = rest[: _FIXED[ai]], rest[_FIXED[ai] :]
            if len(value) != _FIXED[ai]:
                raise InvalidBarcode(f"({ai}) needs {_FIXED[ai]} characters")
        else:
            value, _, rest = rest.partition(_GS)
            if not value or len(value) > _VARIABLE[ai]:
                raise InvalidBarcode(f"({ai}) must hold 1 to {_VARIABLE[ai]} characters")
        fields[ai] = value
        rest = rest.lstrip(_GS)
    return fields
