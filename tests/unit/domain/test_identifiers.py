"""NPI, DEA and NDC checks against the test values of standards §6, plus properties."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hub.domain.identifiers import (
    InvalidNdc,
    dea_check_digit,
    dea_is_valid,
    format_ndc11,
    ndc_or_none,
    normalize_ndc,
    npi_check_digit,
    npi_is_valid,
)
from hub.errors import DomainError


@pytest.mark.parametrize("npi", ["1234567893", "1993999998"])
def test_standard_npi_test_values_are_valid(npi: str) -> None:
    assert npi_is_valid(npi)


@pytest.mark.parametrize(
    "npi",
    [
        "1234567890",
        "1234567894",
        "123456789",
        "12345678931",
        "3234567893",
        "12345678a3",
        "",
        "\uff11\uff12\uff13\uff14\uff15\uff16\uff17\uff18\uff19\uff13",
    ],
)
def test_bad_npis_are_invalid(npi: str) -> None:
    assert not npi_is_valid(npi)


@given(st.sampled_from("12"), st.text(alphabet="0123456789", min_size=8, max_size=8))
def test_generated_npi_always_validates(first: str, rest: str) -> None:
    nine = first + rest
    assert npi_is_valid(nine + str(npi_check_digit(nine)))


@given(st.text(alphabet="0123456789", min_size=9, max_size=9), st.integers(1, 9))
def test_changing_the_npi_check_digit_invalidates(nine: str, delta: int) -> None:
    wrong = (npi_check_digit(nine) + delta) % 10
    assert not npi_is_valid(nine + str(wrong))


@pytest.mark.parametrize("dea", ["AP5836727", "AJ5184279", "ap5836727"])
def test_standard_dea_test_values_are_valid(dea: str) -> None:
    assert dea_is_valid(dea)


def test_dea_last_name_initial_is_checked_when_given() -> None:
    assert dea_is_valid("AP5836727", "Prescott")
    assert not dea_is_valid("AP5836727", "Smith")
    assert dea_is_valid("AJ5184279", "jones")


@pytest.mark.parametrize("dea", ["AP5836728", "AP583672", "A15836727", "1P5836727", "", "AP58367271"])
def test_bad_dea_numbers_are_invalid(dea: str) -> None:
    assert not dea_is_valid(dea)


@given(
    st.sampled_from("ABFGM"),
    st.sampled_from("ABCXYZ"),
    st.text(alphabet="0123456789", min_size=6, max_size=6),
)
def test_generated_dea_always_validates(kind: str, initial: str, six: str) -> None:
    assert dea_is_valid(f"{kind}{initial}{six}{dea_check_digit(six)}", f"{initial}ame")


@pytest.mark.parametrize(
    ("text", "ndc11"),
    [
        ("0574-4072-05", "00574407205"),  # 4-4-2
        ("51655-089-52", "51655008952"),  # 5-3-2
        ("58118-1397-3", "58118139703"),  # 5-4-1
        ("00574-4072-05", "00574407205"),  # already 5-4-2
        ("00574407205", "00574407205"),  # 11 plain digits
        (" 0574-4072-05 ", "00574407205"),
    ],
)
def test_ndc_normalisation_from_standards_examples(text: str, ndc11: str) -> None:
    assert normalize_ndc(text) == ndc11


@pytest.mark.parametrize("text", ["0143963401", "1234-567-89", "12345-6789-123", "abc", "", "01151327", "62756-017"])
def test_ambiguous_or_malformed_ndc_is_refused(text: str) -> None:
    with pytest.raises(InvalidNdc):
        normalize_ndc(text)
    assert ndc_or_none(text) is None


def test_invalid_ndc_is_a_domain_error() -> None:
    assert issubclass(InvalidNdc, DomainError)


def test_format_ndc11_is_5_4_2() -> None:
    assert format_ndc11("00574407205") == "00574-4072-05"


_DIGITS = "0123456789"
_dashed_ndc = st.one_of(
    st.tuples(
        st.text(_DIGITS, min_size=4, max_size=4),
        st.text(_DIGITS, min_size=4, max_size=4),
        st.text(_DIGITS, min_size=2, max_size=2),
    ),
    st.tuples(
        st.text(_DIGITS, min_size=5, max_size=5),
        st.text(_DIGITS, min_size=3, max_size=3),
        st.text(_DIGITS, min_size=2, max_size=2),
    ),
    st.tuples(
        st.text(_DIGITS, min_size=5, max_size=5),
        st.text(_DIGITS, min_size=4, max_size=4),
        st.text(_DIGITS, min_size=1, max_size=1),
    ),
).map("-".join)


@given(_dashed_ndc)
def test_ndc_normalisation_gives_11_digits_and_is_idempotent(text: str) -> None:
    ndc11 = normalize_ndc(text)
    assert len(ndc11) == 11 and ndc11.isdigit()
    assert normalize_ndc(ndc11) == ndc11
    assert normalize_ndc(format_ndc11(ndc11)) == ndc11


@given(_dashed_ndc)
def test_normalisation_keeps_every_digit_in_order(text: str) -> None:
    labeler, product, package = text.split("-")
    ndc11 = normalize_ndc(text)
    assert ndc11[:5].endswith(labeler) and ndc11[5:9].endswith(product) and ndc11[9:].endswith(package)


@given(st.text())
def test_normalisation_of_any_text_returns_ndc11_or_raises_invalid_ndc(text: str) -> None:
    try:
        result = normalize_ndc(text)
    except InvalidNdc:
        return
    assert len(result) == 11 and result.isdigit()
