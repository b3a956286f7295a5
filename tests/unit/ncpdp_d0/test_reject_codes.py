"""The reject table classifies what the pharmacy must do (standards.md §4.4)."""

import pytest

from adapters.ncpdp.d0 import RejectCategory, describe_reject


@pytest.mark.parametrize("code", ["92", "99", "85"])
def test_transient_codes_are_retried(code: str) -> None:
    assert describe_reject(code).category is RejectCategory.TRANSIENT


@pytest.mark.parametrize("code", ["70", "75", "76", "79", "88"])
def test_benefit_codes_need_a_human(code: str) -> None:
    assert describe_reject(code).category is RejectCategory.NEEDS_HUMAN


@pytest.mark.parametrize("code", ["07", "19", "21", "25"])
def test_missing_or_invalid_codes_are_fixable(code: str) -> None:
    rejection = describe_reject(code)
    assert rejection.category is RejectCategory.FIXABLE
    assert rejection.text.startswith("M/I")


def test_unknown_code_is_shown_to_a_human_not_dropped() -> None:
    assert describe_reject("ZZ").category is RejectCategory.OTHER
    assert "ZZ" in describe_reject("ZZ").text
