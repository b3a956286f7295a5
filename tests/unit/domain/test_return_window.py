"""The plan's return-to-stock window: when a will-call fill must go back, and that a pickup after it is refused."""

from __future__ import annotations

from datetime import timedelta

import pytest

from hub.domain.payer_sheet import PayerSheet, PayerSheets
from hub.domain.return_window import (
    DEFAULT_WINDOW_DAYS,
    ReturnWindowPassed,
    check_sale,
    past_window,
    ready_since,
    window_days,
)
from hub.domain.states import RxState
from tests.unit.domain.builders import (
    NOW,
    PHARMACIST,
    SYSTEM,
    TECHNICIAN,
    context,
    fill_from_stock,
    reach,
    received,
)


def test_a_paid_fill_is_past_its_window_only_after_the_window() -> None:
    rx = reach(RxState.READY)
    fill = rx.current_fill
    since = ready_since(fill)
    assert since is not None
    assert not past_window(fill, since + timedelta(days=14), 14)
    assert past_window(fill, since + timedelta(days=14, seconds=1), 14)
    check_sale(fill, since + timedelta(days=13), 14)
    with pytest.raises(ReturnWindowPassed, match="14-day return-to-stock window"):
        check_sale(fill, since + timedelta(days=15), 14)


def test_the_window_is_the_plans_from_its_payer_sheet_else_the_default() -> None:
    fill = reach(RxState.READY).current_fill
    assert fill.claim is not None and fill.claim.bin == "610014"
    assert window_days(fill, PayerSheets()) == DEFAULT_WINDOW_DAYS
    assert window_days(fill, PayerSheets(), 12) == 12
    sheets = PayerSheets(sheets=(PayerSheet(bin="610014", return_to_stock_days=10),))
    assert window_days(fill, sheets, 14) == 10
    other_plan = PayerSheets(sheets=(PayerSheet(bin="999999", return_to_stock_days=10),))
    assert window_days(fill, other_plan, 14) == 14


def test_a_fill_not_in_will_call_has_no_window() -> None:
    rx = reach(RxState.READY)
    rx.dispense(TECHNICIAN, NOW)
    assert ready_since(rx.current_fill) is None
    assert not past_window(rx.current_fill, NOW + timedelta(days=90), 14)


def test_a_cash_fill_has_no_claim_to_recoup() -> None:
    rx = received(coverage=None)
    rx.intake(SYSTEM, NOW, context())
    rx.approve_data_verification(PHARMACIST, NOW)
    fill_from_stock(rx)
    rx.approve_product_verification(PHARMACIST, NOW)
    assert not past_window(rx.current_fill, NOW + timedelta(days=90), 14)


def test_the_window_counts_from_the_last_arrival_in_will_call() -> None:
    rx = reach(RxState.READY)
    later = NOW + timedelta(days=20)
    rx.current_fill.history[-1] = rx.current_fill.history[-1].model_copy(update={"at": later})
    assert ready_since(rx.current_fill) == later
    assert not past_window(rx.current_fill, later + timedelta(days=1), 14)


def test_a_sheet_window_must_be_positive() -> None:
    with pytest.raises(ValueError):
        PayerSheet(bin="610014", return_to_stock_days=0)
