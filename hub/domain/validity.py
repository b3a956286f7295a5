"""How long a prescription may be filled and refilled (21 CFR 1306.12, 1306.22; state law for the rest)."""

from __future__ import annotations

from datetime import date

from hub.errors import DomainError

#: CIII-V: no more than five refills (21 CFR 1306.22(a))
MAX_CONTROLLED_REFILLS = 5


class RefillRefused(DomainError):
    """A refill cannot be made; ``reason`` says why in words a technician can read to the patient."""

    def __init__(self, rx_number: str, reason: str) -> None:
        super().__init__(f"refill of Rx {rx_number} refused: {reason}")
        self.rx_number = rx_number
        self.reason = reason


def add_one_year(day: date) -> date:
    """The same calendar day a year later (28 February for 29 February)."""
    try:
        return day.replace(year=day.year + 1)
    except ValueError:
        return day.replace(year=day.year + 1, day=28)


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later, clamped to the month's last day."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    for candidate in (day.day, 30, 29, 28):
        try:
            return date(year, month, candidate)
        except ValueError:
            continue
    raise AssertionError("unreachable: every month has 28 days")


def expiry_date(written: date, schedule: str | None) -> date:
    """Last day the prescription may be filled: one year (non-controlled) or six months (CII-CV).

    Federal law sets six months for CIII-V refills; CII has no federal limit but no refills either, and
    many states cap it much lower, so the conservative six months is used for CII too.
    """
    if schedule is None:
        return add_one_year(written)
    return add_months(written, 6)


def refills_allowed(authorized: int, schedule: str | None) -> int:
    """Refills the law lets the pharmacy honour of those the prescriber authorized."""
    if schedule == "2":
        return 0
    if schedule is not None:
        return min(authorized, MAX_CONTROLLED_REFILLS)
    return authorized
