"""FHIR search parameters of the AuditEvent export (R4 search.html): ``date``, ``patient``, ``agent``, ``_count``.

``date`` takes the R4 prefixes (eq, ge, gt, le, lt; eq when none) on a date or dateTime, its precision
giving the range it means: ``date=eq2026-12-07`` is that whole day (UTC when no zone is given).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

_PREFIXES = ("eq", "ge", "gt", "le", "lt")
_YEAR, _MONTH, _DAY = re.compile(r"\d{4}"), re.compile(r"\d{4}-\d{2}"), re.compile(r"\d{4}-\d{2}-\d{2}")
_TICK = timedelta(microseconds=1)


@dataclass(frozen=True)
class TimeRange:
    """Entries from ``since`` to ``until``, both included; None leaves that side open."""

    since: datetime | None = None
    until: datetime | None = None

    def narrowed(self, other: TimeRange) -> TimeRange:
        """Both ranges at once (several ``date`` parameters are ANDed)."""
        since = max((t for t in (self.since, other.since) if t is not None), default=None)
        until = min((t for t in (self.until, other.until) if t is not None), default=None)
        return TimeRange(since, until)


def _next_month(day: date) -> date:
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


def _span(text: str) -> tuple[datetime, datetime]:
    """The [start, end) a date or dateTime of its precision means."""
    try:
        if _YEAR.fullmatch(text):
            start = date(int(text), 1, 1)
            return _midnight(start), _midnight(date(start.year + 1, 1, 1))
        if _MONTH.fullmatch(text):
            start = date(int(text[:4]), int(text[5:]), 1)
            return _midnight(start), _midnight(_next_month(start))
        if _DAY.fullmatch(text):
            start = date.fromisoformat(text)
            return _midnight(start), _midnight(start + timedelta(days=1))
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"date={text}: not a FHIR date or dateTime") from None
    moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return moment, moment + (timedelta(seconds=1) if moment.microsecond == 0 else _TICK)


def _midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def date_range(values: list[str]) -> TimeRange:
    """What every ``date`` parameter together allows; ValueError names one that is not a date."""
    found = TimeRange()
    for value in values:
        prefix = value[:2] if value[:2] in _PREFIXES else "eq"
        start, end = _span(value[2:] if value[:2] in _PREFIXES else value)
        found = found.narrowed(
            {
                "eq": TimeRange(start, end - _TICK),
                "ge": TimeRange(since=start),
                "gt": TimeRange(since=end),
                "le": TimeRange(until=end - _TICK),
                "lt": TimeRange(until=start - _TICK),
            }[prefix]
        )
    return found


def reference_id(value: str | None, resource_type: str) -> str | None:
    """``Patient/123`` or ``123`` -> ``123`` (a search by reference names the resource either way)."""
    if value is None:
        return None
    return value.removeprefix(f"{resource_type}/") or None
