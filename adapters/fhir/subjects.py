"""Which Patient entry of a Bundle each order names as its subject (transaction answers give it a Location)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from adapters.fhir.elements import obj
from adapters.fhir.references import BundleContext, resolve
from hub.errors import Problem

_ENTRY = re.compile(r"^Bundle\.entry\[(\d+)\]\.resource$")


def subject_entries(bundle: dict[str, Any], orders: Iterable[int]) -> dict[int, int]:
    """Patient entry index -> the first order entry (of ``orders``) whose subject it is."""
    context = BundleContext.of(bundle)
    by_index = {entry.index: entry for entry in context.entries}
    found: dict[int, int] = {}
    for index in orders:
        entry = by_index.get(index)
        if entry is None:
            continue
        problems: list[Problem] = []
        resolution = resolve(
            obj(entry.resource, "subject"),
            scope=context.scope_of(entry),
            context=context,
            where=f"Bundle.entry[{index}].resource.subject",
            problems=problems,
        )
        target = resolution.target
        match = _ENTRY.fullmatch(target.at) if target is not None else None
        if match and target is not None and target.resource.get("resourceType") == "Patient":
            found.setdefault(int(match.group(1)), index)
    return found
