"""Common 511-FB reject codes with their meaning and what the pharmacy must do about them.

Source: standards.md §4.4 (public payer sheets; the full list is NCPDP's licensed External Code List).
Entries marked ``verified=False`` are general knowledge or corpus-only and should be checked before relying
on their wording. Classification: transient -> retry; needs_human -> PA, DUR override, prescriber, cash;
fixable -> an M/I data error the technician can correct and resubmit.
"""

from __future__ import annotations

from enum import StrEnum

from hub.domain.claim_codes import DUR_REJECT_CODE, HOST_UNAVAILABLE_CODE, NOTHING_TO_REVERSE_CODE, SYNTAX_ERROR_CODE
from hub.domain.order_parts import Frozen


class RejectCategory(StrEnum):
    """What the pharmacy (or the hub) should do with a reject."""

    TRANSIENT = "transient"
    NEEDS_HUMAN = "needs_human"
    FIXABLE = "fixable"
    OTHER = "other"


class RejectCode(Frozen):
    """One 511-FB code and its handling."""

    code: str
    text: str
    category: RejectCategory
    verified: bool = True


_T, _H, _F, _O = (
    RejectCategory.TRANSIENT,
    RejectCategory.NEEDS_HUMAN,
    RejectCategory.FIXABLE,
    RejectCategory.OTHER,
)

_TABLE: tuple[tuple[str, str, RejectCategory, bool], ...] = (
    ("01", "M/I BIN", _F, True),
    ("02", "M/I Version/Release Number", _F, False),
    ("03", "M/I Transaction Code", _F, False),
    ("04", "M/I Processor Control Number", _F, True),
    ("05", "M/I Pharmacy Number", _F, True),
    ("06", "M/I Group ID", _F, True),
    ("07", "M/I Cardholder ID", _F, True),
    ("08", "M/I Person Code", _F, True),
    ("09", "M/I Date of Birth", _F, True),
    ("10", "M/I Patient Gender Code", _F, True),
    ("15", "M/I Date of Service", _F, True),
    ("16", "M/I Prescription/Service Reference Number", _F, False),
    ("17", "M/I Fill Number", _F, False),
    ("19", "M/I Days Supply", _F, True),
    ("20", "M/I Compound Code", _F, False),
    ("21", "M/I Product/Service ID", _F, True),
    ("22", "M/I Dispense As Written (DAW)/Product Selection Code", _F, True),
    ("25", "M/I Prescriber ID", _F, True),
    ("26", "M/I Unit of Measure", _F, True),
    ("28", "M/I Date Prescription Written", _F, True),
    ("41", "Submit Bill to Other Processor/Primary Payer", _H, True),
    ("56", "Non-Matched Prescriber ID", _F, True),
    ("65", "Patient Is Not Covered", _H, True),
    ("70", "Product/Service Not Covered", _H, True),
    ("71", "Prescriber ID Is Not Covered", _H, True),
    ("75", "Prior Authorization Required", _H, True),
    ("76", "Plan Limitations Exceeded", _H, True),
    ("77", "Discontinued Product/Service ID", _H, True),
    ("78", "Cost Exceeds Maximum", _H, True),
    ("79", "Refill Too Soon", _H, True),
    ("83", "Duplicate Paid/Captured Claim", _O, False),
    ("85", "Claim Not Processed", _T, False),
    (NOTHING_TO_REVERSE_CODE, "Reversal Not Processed", _H, False),
    (DUR_REJECT_CODE, "DUR Reject Error", _H, True),
    (HOST_UNAVAILABLE_CODE, "System Unavailable/Host Unavailable", _T, True),
    ("99", "Host Processing Error", _T, True),
    ("1S", "Transaction Code/Type Not Supported", _F, False),
    ("A9", "M/I Transaction Count", _F, False),
    ("AK", "M/I Software Vendor/Certification ID", _F, False),
    ("B2", "M/I Service Provider ID Qualifier", _F, False),
    ("E1", "M/I Product/Service ID Qualifier", _F, False),
    ("E7", "M/I Quantity Dispensed", _F, False),
    ("HD", "M/I Dispensing Status", _F, False),
    ("HF", "M/I Quantity Intended To Be Dispensed", _F, False),
    ("HG", "M/I Days Supply Intended To Be Dispensed", _F, False),
    ("EZ", "M/I Prescriber ID Qualifier", _F, False),
    ("EC", "M/I Compound Ingredient Component Count", _F, False),
    ("ED", "M/I Compound Ingredient Quantity", _F, False),
    ("EE", "M/I Compound Ingredient Drug Cost", _F, False),
    ("EF", "M/I Compound Dosage Form Description Code", _F, False),
    ("EG", "M/I Compound Dispensing Unit Form Indicator", _F, False),
    ("RE", "M/I Compound Product ID Qualifier", _F, False),
    ("TE", "M/I Compound Product ID", _F, False),
    ("UE", "M/I Compound Ingredient Basis of Cost Determination", _F, False),
    ("MR", "Product Not On Formulary", _H, False),
    ("N1", "No Patient Match Found", _F, True),
    ("PZ", "Non-Matched Unit of Measure to Product/Service ID", _F, True),
    (SYNTAX_ERROR_CODE, "Syntax Error", _F, True),
)

REJECT_CODES: dict[str, RejectCode] = {
    code: RejectCode(code=code, text=text, category=category, verified=verified)
    for code, text, category, verified in _TABLE
}

#: field id -> the M/I reject code a payer returns when that field is missing or invalid
_FIELD_CODES = {
    "A1": "01",
    "A2": "02",
    "A3": "03",
    "A4": "04",
    "B1": "05",
    "C1": "06",
    "C2": "07",
    "C3": "08",
    "C4": "09",
    "C5": "10",
    "D1": "15",
    "D2": "16",
    "D3": "17",
    "D5": "19",
    "D6": "20",
    "D7": "21",
    "D8": "22",
    "DB": "25",
    "28": "26",
    "DE": "28",
    "A9": "A9",
    "AK": "AK",
    "B2": "B2",
    "E1": "E1",
    "E7": "E7",
    "EZ": "EZ",
    **{fid: fid for fid in ("EC", "ED", "EE", "EF", "EG", "RE", "TE", "UE")},
    "HD": "HD",
    "HF": "HF",
    "HG": "HG",
}


def describe_reject(code: str) -> RejectCode:
    """The meaning and handling of a reject code; unknown codes are OTHER, shown to a human."""
    return REJECT_CODES.get(code) or RejectCode(code=code, text=f"Reject code {code}", category=_O, verified=False)


def missing_or_invalid_code(field_id: str) -> str:
    """The M/I reject code for a field, or R8 (syntax error) when there is none in our table."""
    return _FIELD_CODES.get(field_id, SYNTAX_ERROR_CODE)
