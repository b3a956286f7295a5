"""Whether one value of a FHIR search parameter matches a resource's values: token, reference, string and date.

R4 search.html: a comma inside one parameter is OR, a repeated parameter is AND (handled by ``search``). Dates
are ranges at their precision (``2024`` is the whole year), compared with the prefixes eq ne gt lt ge le sa eb;
a date without a time zone is read as UTC.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

DATE_PREFIXES = ("eq", "ne", "gt", "lt", "ge", "le", "sa", "eb")
_YEAR = re.compile(r"^\d{4}$")
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass(frozen=True)
class Span:
    """A moment at its precision, as a half-open range of UTC instants."""

    start: datetime
    end: datetime


def _midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def span_of(text: str) -> Span:
    """The range a FHIR date, dateTime or instant covers; ValueError when it is none of those."""
    text = text.strip()
    if _YEAR.match(text):
        year = int(text)
        return Span(datetime(year, 1, 1, tzinfo=UTC), datetime(year + 1, 1, 1, tzinfo=UTC))
    if month := _MONTH.match(text):
        year, number = int(month[1]), int(month[2])
        start = datetime(year, number, 1, tzinfo=UTC)
        return Span(start, datetime(year + number // 12, number % 12 + 1, 1, tzinfo=UTC))
    if _DAY.match(text):
        start = _midnight(date.fromisoformat(text))
        return Span(start, start + timedelta(days=1))
    moment = datetime.fromisoformat(text)
    moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return Span(moment, moment + timedelta(seconds=1))


def date_value(value: str) -> tuple[str, Span]:
    """A date search value split into its prefix (``eq`` when none) and range; ValueError when malformed."""
    prefix = value[:2] if value[:2] in DATE_PREFIXES else "eq"
    return prefix, span_of(value[2:] if value[:2] in DATE_PREFIXES else value)


def date_matches(value: str, targets: Iterable[Span]) -> bool:
    """Whether any of the resource's ranges meets the search value."""
    prefix, wanted = date_value(value)
    return any(_meets(prefix, wanted, target) for target in targets)


def _meets(prefix: str, wanted: Span, target: Span) -> bool:
    within = wanted.start <= target.start and target.end <= wanted.end
    tests = {
        "eq": within,
        "ne": not within,
        "gt": target.end > wanted.end,
        "lt": target.start < wanted.start,
        "ge": within or target.end > wanted.end,
        "le": within or target.start < wanted.start,
        "sa": target.start >= wanted.end,
        "eb": target.end <= wanted.start,
    }
    return tests[prefix]


def token_matches(value: str, codes: Iterable[tuple[str | None, str]]) -> bool:
    """``code``, ``system|code``, ``|code`` (no system) or ``system|`` (any code of the system)."""
    if "|" not in value:
        return any(code == value for _, code in codes)
    system, code = value.split("|", 1)
    return any((system == (own or "")) and (not code or code == own_code) for own, own_code in codes)


def reference_id(reference: str, resource_type: str) -> str | None:
    """The id in ``Type/id``, ``[base]/Type/id`` or a bare ``id``; None when it names another type."""
    parts = reference.strip().rstrip("/").split("/")
    if len(parts) == 1:
        return parts[0] or None
    return parts[-1] if parts[-2] == resource_type and parts[-1] else None


def string_matches(value: str, texts: Iterable[str], modifier: str) -> bool:
    """Starts with (the default), ``exact`` or ``contains``; any case except with ``exact``."""
    if modifier == "exact":
        return any(text == value for text in texts)
    wanted = value.casefold()
    if modifier == "contains":
        return any(wanted in text.casefold() for text in texts)
    return any(text.casefold().startswith(wanted) for text in texts)
