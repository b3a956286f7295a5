"""A delivery's lot must not have expired: the domain's own check, whatever door or API it came through."""

from __future__ import annotations

from datetime import date

import pytest

from hub.domain.inventory import ExpiredLot, check_receivable

TODAY = date(2026, 12, 7)


def test_a_lot_expired_before_today_is_refused_with_its_date() -> None:
    with pytest.raises(ExpiredLot, match="lot L1 expired on 2026-12-06: it may not go on the shelf"):
        check_receivable("L1", date(2026, 12, 6), TODAY)


@pytest.mark.parametrize("expiry", [TODAY, date(2030, 1, 31)])
def test_a_lot_in_date_today_is_received(expiry: date) -> None:
    check_receivable("L1", expiry, TODAY)
