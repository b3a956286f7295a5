"""Where each FHIR search finds its candidates: the hub's records, narrowed by what the search names and by
whose they are (a feed finds only its own orders and their patients, as it reads them), rendered as views.

Candidates are read a batch at a time and matched one by one, keeping only the page asked for; a search that
would read more than ``MAX_SCANNED`` records is refused as too costly (name a patient or an identifier).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, replace
from datetime import date
from typing import Any, TypeVar

from adapters.fhir.fhir_views_from_hub import (
    claim_snapshots,
    fill_snapshots,
    patient_snapshot,
    prescription_snapshot,
    request_id,
)
from adapters.fhir.search import Candidate, Search
from adapters.fhir.search_values import reference_id
from adapters.fhir.views import claim_response_view, medication_dispense_view, medication_request_view, patient_view
from hub.domain.prescription import Prescription
from hub.errors import MessageContentError, Problem
from hub.service.ports import PrescriptionQueries
from hub.service.record_criteria import OrderCriteria, PatientCriteria

#: records read per query
BATCH = 500
#: records a search may read to match one by one
MAX_SCANNED = 20_000
T = TypeVar("T")


@dataclass(frozen=True)
class Found:
    """How many resources matched, and those of the page asked for."""

    total: int
    page: list[dict[str, Any]]


def _too_costly(resource_type: str) -> MessageContentError:
    text = f"this {resource_type} search would read more than {MAX_SCANNED} records; narrow it (patient, identifier)"
    return MessageContentError(text, [Problem("too-costly", text, "", "error")])


async def _batches(read: Callable[[int], list[T]], resource_type: str) -> AsyncIterator[T]:
    offset = 0
    while True:
        batch = await asyncio.to_thread(read, offset)
        if batch and offset >= MAX_SCANNED:
            raise _too_costly(resource_type)
        for record in batch:
            yield record
        if len(batch) < BATCH:
            return
        offset += BATCH


def _token_value(token: str | None) -> str | None:
    if token is None:
        return None
    value = token.split("|", 1)[1] if "|" in token else token
    return value or None


def _ref(search: Search, name: str, resource_type: str) -> str | None:
    value = search.only(name)
    return reference_id(value, resource_type) if value is not None else None


def _orders(
    search: Search, queries: PrescriptionQueries, scope: str | None, order_param: str
) -> AsyncIterator[Prescription]:
    order_id = search.only("_id") if order_param == "_id" else _ref(search, order_param, "MedicationRequest")
    criteria = OrderCriteria(
        owner=scope,
        patient_id=_ref(search, "patient", "Patient") or _ref(search, "subject", "Patient"),
        placer_order_number=_token_value(search.only("identifier")) if order_param == "_id" else None,
        order_id=order_id,
        limit=BATCH,
    )
    return _batches(lambda offset: queries.orders_matching(replace(criteria, offset=offset)), search.resource_type)


def _order_ids(rx: Prescription) -> frozenset[str]:
    return frozenset({request_id(rx), rx.prescription_id})


async def _requests(search: Search, queries: PrescriptionQueries, scope: str | None) -> AsyncIterator[Candidate]:
    async for rx in _orders(search, queries, scope, "_id"):
        yield Candidate(
            medication_request_view(prescription_snapshot(rx)),
            {"_id": _order_ids(rx), "patient": frozenset({rx.patient_id})},
        )


async def _dispenses(search: Search, queries: PrescriptionQueries, scope: str | None) -> AsyncIterator[Candidate]:
    async for rx in _orders(search, queries, scope, "prescription"):
        for fill in fill_snapshots(rx):
            yield Candidate(
                medication_dispense_view(fill), {"prescription": _order_ids(rx), "patient": frozenset({rx.patient_id})}
            )


async def _claims(search: Search, queries: PrescriptionQueries, scope: str | None) -> AsyncIterator[Candidate]:
    async for rx in _orders(search, queries, scope, "request"):
        for claim in claim_snapshots(rx):
            yield Candidate(
                claim_response_view(claim), {"request": _order_ids(rx), "patient": frozenset({rx.patient_id})}
            )


def _birth_date(value: str | None) -> date | None:
    text = value[2:] if value and value.startswith("eq") else value
    try:
        return date.fromisoformat(text) if text and len(text) == 10 else None
    except ValueError:
        return None


async def _patients(search: Search, queries: PrescriptionQueries, scope: str | None) -> AsyncIterator[Candidate]:
    criteria = PatientCriteria(
        owner=scope,
        patient_id=search.only("_id"),
        identifier_value=_token_value(search.only("identifier")),
        family_prefix=search.only("family"),
        birth_date=_birth_date(search.only("birthdate")),
        limit=BATCH,
    )
    found = _batches(lambda offset: queries.patients_matching(replace(criteria, offset=offset)), "Patient")
    async for patient in found:
        yield Candidate(patient_view(patient_snapshot(patient)), {"_id": frozenset({patient.patient_id})})


_SOURCES = {
    "MedicationRequest": _requests,
    "MedicationDispense": _dispenses,
    "ClaimResponse": _claims,
    "Patient": _patients,
}


async def matches(search: Search, queries: PrescriptionQueries, scope: str | None) -> Found:
    """How many resources of the search's type ``scope`` may see (None: staff, all) it matches, and the page
    of them it asks for, in the hub's order."""
    total, page = 0, []
    start, end = search.offset, search.offset + search.count
    async for candidate in _SOURCES[search.resource_type](search, queries, scope):
        if search.matches(candidate):
            if start <= total < end:
                page.append(candidate.resource)
            total += 1
    return Found(total, page)
