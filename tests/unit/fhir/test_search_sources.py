"""Search candidates are read in batches, matched one by one, and a search reading too many is refused."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

import pytest

from adapters.fhir import search_sources
from adapters.fhir.search import parse_search
from hub.domain.order_parts import PatientInfo
from hub.domain.parties import Patient
from hub.errors import MessageContentError
from hub.service.record_criteria import PatientCriteria


@dataclass
class Patients:
    """The patients query of PrescriptionQueries over a list, recording every criteria it was asked."""

    stored: list[Patient]
    asked: list[PatientCriteria] = field(default_factory=list)

    def patients_matching(self, criteria: PatientCriteria) -> list[Patient]:
        self.asked.append(criteria)
        return self.stored[criteria.offset : criteria.offset + criteria.limit]


def _patients(count: int) -> list[Patient]:
    return [Patient.new(f"p{n}", PatientInfo(family_name="Even" if n % 2 == 0 else "Odd")) for n in range(count)]


def test_pages_and_totals_span_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(search_sources, "BATCH", 3)
    queries = Patients(_patients(10))
    search = parse_search("Patient", [("name", "even"), ("_count", "2"), ("_offset", "2")], strict=True)
    found = asyncio.run(search_sources.matches(search, queries, "feed:a"))  # type: ignore[arg-type]
    assert found.total == 5 and [p["id"] for p in found.page] == ["p4", "p6"]
    assert [c.offset for c in queries.asked] == [0, 3, 6, 9] and {c.owner for c in queries.asked} == {"feed:a"}


def test_a_search_reading_too_many_records_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(search_sources, "BATCH", 3)
    monkeypatch.setattr(search_sources, "MAX_SCANNED", 6)
    search = parse_search("Patient", [("name", "even")], strict=True)
    assert asyncio.run(search_sources.matches(search, Patients(_patients(6)), None)).total == 3  # type: ignore[arg-type]
    with pytest.raises(MessageContentError) as refused:
        asyncio.run(search_sources.matches(search, Patients(_patients(7)), None))  # type: ignore[arg-type]
    assert refused.value.problems[0].code == "too-costly"
