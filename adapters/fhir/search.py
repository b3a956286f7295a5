"""A FHIR search (R4 search.html): parameters read and checked, candidates matched, one page as a searchset.

Unknown parameters (and unsupported modifiers) are ignored and left out of the ``self`` link, unless the
client sent ``Prefer: handling=strict``: then they are refused with 400. Pages hold ``_count`` matches
(default 50, at most 200) from ``_offset``; the order is the hub's (oldest first), the same on every page.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from adapters.fhir.search_params import ALIASES, SAME_IDS, SEARCH_PARAMS, TARGETS, SearchParam
from adapters.fhir.search_values import date_matches, date_value, reference_id, string_matches, token_matches
from hub.errors import MessageContentError, Problem

DEFAULT_COUNT = 50
MAX_COUNT = 200
#: parameters about the HTTP exchange, never criteria (``negotiation`` reads ``_format``)
_EXCHANGE = frozenset({"_format", "_pretty"})
_COMMA = re.compile(r"(?<!\\),")


@dataclass(frozen=True)
class Candidate:
    """A resource a search may return, with the ids it is known by for ``_id`` and each reference parameter
    (a MedicationRequest answers to its correlation id and to the hub's prescription id)."""

    resource: dict[str, Any]
    ids: Mapping[str, frozenset[str]] = field(default_factory=dict)


@dataclass(frozen=True)
class Criterion:
    """One parameter as applied: its values are alternatives (comma), criteria all hold (repeats)."""

    param: SearchParam
    modifier: str
    text: str

    @property
    def key(self) -> str:
        """The parameter's name as written, with its modifier."""
        return f"{self.param.name}:{self.modifier}" if self.modifier else self.param.name

    @property
    def values(self) -> list[str]:
        """The alternatives, with ``\\,`` read as a comma."""
        return [v.replace("\\,", ",") for v in _COMMA.split(self.text)]

    def holds(self, candidate: Candidate) -> bool:
        """Whether one of the values matches the candidate."""
        return any(self._matches(value, candidate) for value in self.values)

    def _matches(self, value: str, candidate: Candidate) -> bool:
        kind, name = self.param.kind, self.param.name
        if name == "_id":
            return value in candidate.ids.get("_id", frozenset({candidate.resource.get("id", "")}))
        if kind == "reference":
            wanted = reference_id(value, TARGETS.get(name, ""))
            return wanted is not None and wanted in candidate.ids.get(SAME_IDS.get(name, name), frozenset())
        found = self.param.values(candidate.resource)
        if kind == "token":
            return token_matches(value, found)
        if kind == "string":
            return string_matches(value, found, self.modifier)
        return date_matches(value, found)


@dataclass(frozen=True)
class Search:
    """A parsed search of one resource type."""

    resource_type: str
    criteria: tuple[Criterion, ...]
    count: int = DEFAULT_COUNT
    offset: int = 0
    count_given: bool = False

    def only(self, name: str) -> str | None:
        """The value of ``name`` when it is given once, plainly, with one value: what a source narrows by."""
        given = [c for c in self.criteria if c.param.name == name]
        if len(given) != 1 or given[0].modifier or len(given[0].values) != 1:
            return None
        return given[0].values[0]

    def matches(self, candidate: Candidate) -> bool:
        """Whether every criterion holds."""
        return all(c.holds(candidate) for c in self.criteria)

    def query(self, offset: int) -> str:
        """The query string of the page at ``offset``: the criteria applied and the paging."""
        pairs = [(c.key, c.text) for c in self.criteria]
        pairs += [("_count", str(self.count))] if self.count_given or offset else []
        pairs += [("_offset", str(offset))] if offset else []
        return urlencode(pairs)


def _refused(name: str, text: str) -> MessageContentError:
    return MessageContentError(text, [Problem("invalid", text, name, "error")])


def _number(name: str, text: str) -> int:
    if not text.isdigit():
        raise _refused(name, f"{name} must be a whole number, not {text!r}")
    return int(text)


def parse_search(resource_type: str, items: Sequence[tuple[str, str]], *, strict: bool) -> Search:
    """The search these query (or form) parameters ask for; raises a 400 error for a bad value, and with
    ``strict`` for a parameter this server does not support."""
    params = {p.name: p for p in SEARCH_PARAMS[resource_type]}
    criteria: list[Criterion] = []
    count, offset, count_given = DEFAULT_COUNT, 0, False
    for key, text in items:
        name, _, modifier = key.partition(":")
        name = ALIASES.get(name, name)
        if key == "_count":
            count, count_given = min(_number(key, text), MAX_COUNT), True
        elif key == "_offset":
            offset = _number(key, text)
        elif name in params and (not modifier or modifier in params[name].modifiers):
            if text:  # an empty value asks for nothing (R4 search.html: ignored)
                criteria.append(_checked(Criterion(params[name], modifier, text)))
        elif strict and name not in _EXCHANGE:
            supported = ", ".join(sorted(params))
            raise _refused(
                key,
                f"search parameter {key!r} is not supported on {resource_type} "
                f"(Prefer: handling=strict); supported: {supported}, _count, _offset",
            )
    return Search(resource_type, tuple(criteria), count, offset, count_given)


def _checked(criterion: Criterion) -> Criterion:
    if criterion.param.kind == "date":
        for value in criterion.values:
            try:
                date_value(value)
            except ValueError:
                raise _refused(criterion.key, f"{criterion.key}: {value!r} is not a FHIR date") from None
    return criterion


def searchset(base: str, search: Search, page: list[dict[str, Any]], total: int) -> dict[str, Any]:
    """One page of matches as a searchset Bundle, with ``self``, ``first``, ``previous`` and ``next`` links."""
    url = f"{base}{search.resource_type}"
    end = search.offset + search.count
    links = [("self", search.offset), ("first", 0)]
    if search.offset > 0:
        links.append(("previous", max(0, search.offset - search.count)))
    if end < total and search.count > 0:
        links.append(("next", end))
    bundle: dict[str, Any] = {
        "resourceType": "Bundle",
        "type": "searchset",
        "total": total,
        "link": [{"relation": rel, "url": _url(url, search.query(at))} for rel, at in links],
    }
    if page:  # R4 JSON: an array is never empty; no matches on this page, no ``entry``
        bundle["entry"] = [
            {"fullUrl": f"{base}{r['resourceType']}/{r['id']}", "resource": r, "search": {"mode": "match"}}
            for r in page
        ]
    return bundle


def _url(url: str, query: str) -> str:
    return f"{url}?{query}" if query else url
