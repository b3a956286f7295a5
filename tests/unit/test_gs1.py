"""GS1 barcode text of drug packages: GTIN with the NDC inside, lot and expiry (hub.domain.gs1)."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hub.domain.gs1 import InvalidBarcode, expiry_date, gtin_check_digit, ndc11_candidates, parse_package

TODAY = date(2026, 12, 7)
#: NDC 0143-3142-01 (4-4-2) in a GTIN-14: indicator 0, "03", the 10 digits, check digit
GTIN = "0" + "03" + "0143314201"
GTIN += str(gtin_check_digit(GTIN))


def test_a_known_gtin_check_digit() -> None:
    assert gtin_check_digit("629104150021") == 3  # GS1's own worked example: 6291041500213


@pytest.mark.parametrize(
    "text",
    [
        f"(01){GTIN}(17)280630(10)LOT42",
        f"01{GTIN}17280630" + "10LOT42",
        f"]d201{GTIN}10LOT42\x1d17280630",
        f"]C101{GTIN}17280630" + "10LOT42\x1d",
    ],
)
def test_scanned_and_printed_forms_give_the_same_package(text: str) -> None:
    scan = parse_package(text, TODAY)
    assert (scan.gtin, scan.ndc10, scan.lot, scan.expiry) == (GTIN, "0143314201", "LOT42", date(2028, 6, 30))


def test_the_ndc_digits_have_three_readings_the_catalogue_decides_between() -> None:
    assert ndc11_candidates("0143314201") == ("00143314201", "01433014201", "01433142001")


def test_day_00_is_the_last_day_and_the_century_slides() -> None:
    assert expiry_date("280200", TODAY) == date(2028, 2, 29)
    assert expiry_date("271200", TODAY) == date(2027, 12, 31)
    assert expiry_date("990101", TODAY) == date(1999, 1, 1)  # 73 years ahead: the last century
    assert expiry_date("200131", TODAY) == date(2020, 1, 31)


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("(10)LOT42", "no GTIN"),
        (f"(01){GTIN[:-1]}{(int(GTIN[-1]) + 1) % 10}", "check digit"),
        ("(01)" + "0" + "76" + "0143314201" + str(gtin_check_digit("0760143314201")), "no US NDC"),
        (f"(01){GTIN}(17)281332", "no date"),
        (f"01{GTIN}99XYZ", "unknown application identifier"),
        (f"01{GTIN}10" + "L" * 21, "1 to 20"),
        (f"(01){GTIN} junk", "14 digits"),
        (f"(01){GTIN}(17", "pairs only"),
    ],
)
def test_unreadable_barcodes_are_refused_with_the_reason(text: str, why: str) -> None:
    with pytest.raises(InvalidBarcode, match=why):
        parse_package(text, TODAY)


@given(st.text(max_size=60))
def test_any_text_is_read_or_refused_never_crashes(text: str) -> None:
    try:
        parse_package(text, TODAY)
    except InvalidBarcode:
        pass
