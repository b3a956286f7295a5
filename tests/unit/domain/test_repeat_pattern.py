"""Repeat patterns from "n per period" and "every n units" become table 0335 codes, or nothing."""

from __future__ import annotations

from decimal import Decimal

import pytest

from hub.domain.repeat_pattern import TimeUnit, repeat_code


@pytest.mark.parametrize(
    ("times", "period", "unit", "code"),
    [
        ("1", "1", TimeUnit.DAY, "QD"),
        ("2", None, TimeUnit.DAY, "BID"),
        ("3", "1", TimeUnit.DAY, "TID"),
        ("4", "1", TimeUnit.DAY, "QID"),
        ("6", "1", TimeUnit.DAY, "6ID"),
        (None, "6", TimeUnit.HOUR, "Q6H"),
        ("1", "2", TimeUnit.DAY, "Q2D"),
        ("1", "1", TimeUnit.WEEK, "Q1W"),
        ("1", "30", TimeUnit.MINUTE, "Q30M"),
        ("1", "3", TimeUnit.MONTH, "Q3L"),
        ("1.5", "1", TimeUnit.DAY, None),
        ("2", "3", TimeUnit.HOUR, None),
        ("1", "1", None, None),
        ("0", "1", TimeUnit.DAY, None),
    ],
)
def test_repeat_code(times: str | None, period: str | None, unit: TimeUnit | None, code: str | None) -> None:
    as_decimal = (Decimal(v) if v is not None else None for v in (times, period))
    assert repeat_code(*as_decimal, unit) == code
