"""Check digits and formats of the identifiers a prescription carries: NPI, DEA number, NDC (standards §6).

Intake turns a failed check into an alert for the pharmacist; these functions only answer the question.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator

from hub.errors import DomainError

#: ISO 7812 prefix for US health identifiers; the NPI check digit is a Luhn digit over 80840 + 9 digits
_NPI_PREFIX = "80840"
_DEA_RE = re.compile(r"^[A-Z][A-Z9][0-9]{7}$")
_DASHED_NDC_RE = re.compile(r"^(\d{4,5})-(\d{3,4})-(\d{1,2})$")


class InvalidNdc(DomainError):
    """Text that cannot be read as an NDC without guessing."""


def luhn_check_digit(digits: str) -> int:
    """The Luhn digit that makes ``digits`` + digit valid."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            d = d - 9 if d > 9 else d
        total += d
    return (10 - total % 10) % 10


def npi_check_digit(first_nine: str) -> int:
    """The tenth digit of an NPI whose first nine digits are given."""
    return luhn_check_digit(_NPI_PREFIX + first_nine)


def npi_is_valid(npi: str) -> bool:
    """True for 10 ASCII digits starting with 1 or 2 whose last digit is the Luhn digit (prefix 80840)."""
    if len(npi) != 10 or not npi.isascii() or not npi.isdigit() or npi[0] not in "12":
        return False
    return npi_check_digit(npi[:9]) == int(npi[9])


def dea_check_digit(six_digits: str) -> int:
    """The seventh digit of a DEA number: (d1+d3+d5) + 2*(d2+d4+d6), last digit."""
    d = [int(c) for c in six_digits]
    return (d[0] + d[2] + d[4] + 2 * (d[1] + d[3] + d[5])) % 10


def dea_is_valid(dea: str, last_name: str | None = None) -> bool:
    """True when the checksum holds and, if a last name is given, the second letter is its initial.

    The second letter may be ``9`` for registrants whose business name starts with a digit; a mid-level
    practitioner (type M) uses the last name too, so the initial check applies to every type.
    """
    dea = dea.strip().upper()
    if not dea.isascii() or not _DEA_RE.match(dea):
        return False
    if dea_check_digit(dea[2:8]) != int(dea[8]):
        return False
    if last_name:
        initial = last_name.strip()[:1].upper()
        return initial == "" or dea[1] == initial
    return True


def normalize_ndc(text: str) -> str:
    """An NDC as NDC-11 digits (5-4-2 without dashes), from dashed 4-4-2/5-3-2/5-4-1/5-4-2 or 11 plain digits.

    An undashed 10-digit NDC is refused (``InvalidNdc``): which segment to pad cannot be known without the
    FDA listing, and guessing would select a different product (standards §6).
    """
    cleaned = text.strip()
    if not cleaned.isascii():
        raise InvalidNdc(f"not an NDC: {text!r}")
    if len(cleaned) == 11 and cleaned.isdigit():
        return cleaned
    match = _DASHED_NDC_RE.match(cleaned)
    if match is None:
        raise InvalidNdc(f"not an NDC in 4-4-2, 5-3-2, 5-4-1, 5-4-2 or 11-digit form: {text!r}")
    labeler, product, package = match.groups()
    total = len(labeler) + len(product) + len(package)
    # 4-4-2, 5-3-2 and 5-4-1 are the three 10-digit layouts; 5-4-2 is already NDC-11
    if total not in (10, 11):
        raise InvalidNdc(f"an NDC has 10 digits in three segments: {text!r}")
    return labeler.zfill(5) + product.zfill(4) + package.zfill(2)


def _ndc11_field(text: str) -> str:
    try:
        return normalize_ndc(text)
    except InvalidNdc as exc:  # pydantic reports a ValueError as a validation error of the field
        raise ValueError(str(exc)) from None


#: a field holding an NDC, stored as NDC-11: a dashed form is read, an unreadable one refused at the boundary
#: (stock under any other spelling would never match the product it is of)
Ndc11 = Annotated[str, AfterValidator(_ndc11_field)]


def ndc_or_none(text: str | None) -> str | None:
    """``normalize_ndc`` for callers that treat an unreadable NDC as absent."""
    if not text:
        return None
    try:
        return normalize_ndc(text)
    except InvalidNdc:
        return None


def format_ndc11(ndc11: str) -> str:
    """NDC-11 digits in the 5-4-2 dashed form people read on labels and screens."""
    digits = normalize_ndc(ndc11)
    return f"{digits[:5]}-{digits[5:9]}-{digits[9:]}"
