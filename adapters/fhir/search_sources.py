"""Where each FHIR search finds its candidates: the hub's records, narrowed by what the search names and by
whose they are (a feed finds only its own orders and their patients, as it reads them), rendered as views."""

from __future__ import annotations

import asyncio
from datetime import date
from typing import Any

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

#: more records than this to match one by one: the search must name more (a patient, an identifier)
MAX_CANDIDATES = 1000


def _too_costly(resource_type: str) -> MessageContentError:
    text = (
        f"this {resource_type} search would weigh more than {MAX_CANDIDATES} records; narrow it (patient, identifier)"
    )
    return MessageContentError(text, [Problem("too-costly", text, "", "error")])


def _token_value(token: str | None) -> str | None:
    if token is None:
        return None
    value = token.split("|", 1)[1] if "|" in token else token
    return value or None


def _ref(search: Search, name: str, resource_type: str) -> str | None:
    value = search.only(name)
    return reference_id(value, resource_type) if value is not None else None


async def _orders(
    search: Search, queries: PrescriptionQueries, scope: str | None, order_param: str
) -> list[Prescription]:
    order_id = search.only("_id") if order_param == "_id" else _ref(search, order_param, "MedicationRequest")
    criteria = OrderCriteria(
        owner=scope,
        patient_id=_ref(search, "patient", "Patient"),
        placer_order_number=_token_value(search.only("identifier")) if order_param == "_id" else None,
        order_id=order_id,
        limit=MAX_CANDIDATES + 1,
    )
    found = await asyncio.to_thread(queries.orders_matching, criteria)
    if len(found) > MAX_CANDIDATES:
        raise _too_costly(search.resource_type)
    return found


def _order_ids(rx: Prescription) -> frozenset[str]:
    return frozenset({request_id(rx), rx.prescription_id})


async def _requests(search: Search, queries: PrescriptionQueries, scope: str | None) -> list[Candidate]:
    return [
        Candidate(
            medication_request_view(prescription_snapshot(rx)),
            {"_id": _order_ids(rx), "patient": frozenset({rx.patient_id})},
        )
        for rx in await _orders(search, queries, scope, "_id")
    ]


async def _dispenses(search: Search, queries: PrescriptionQueries, scope: str | None) -> list[Candidate]:
    return [
        Candidate(view, {"prescription": _order_ids(rx), "patient": frozenset({rx.patient_id})})
        for rx in await _orders(search, queries, scope, "prescription")
        for view in (medication_dispense_view(f) for f in fill_snapshots(rx))
    ]


async def _claims(search: Search, queries: PrescriptionQueries, scope: str | None) -> list[Candidate]:
    return [
        Candidate(view, {"request": _order_ids(rx), "patient": frozenset({rx.patient_id})})
        for rx in await _orders(search, queries, scope, "request")
        for view in (claim_response_view(c) for c in claim_snapshots(rx))
    ]


def _birth_date(value: str | None) -> date | None:
    text = value[2:] if value and value.startswith("eq") else value
    try:
        return date.fromisoformat(text) if text and len(text) == 10 else None
    except ValueError:
        return None


async def _patients(search: Search, queries: PrescriptionQueries, scope: str | None) -> list[Candidate]:
    criteria = PatientCriteria(
        owner=scope,
        patient_id=search.only("_id"),
        identifier_value=_token_value(search.only("identifier")),
        family_prefix=search.only("family"),
        birth_date=_birth_date(search.only("birthdate")),
        limit=MAX_CANDIDATES + 1,
    )
    found = await asyncio.to_thread(queries.patients_matching, criteria)
    if len(found) > MAX_CANDIDATES:
        raise _too_costly("Patient")
    return [Candidate(patient_view(patient_snapshot(p)), {"_id": frozenset({p.patient_id})}) for p in found]


_SOURCES = {
    "MedicationRequest": _requests,
    "MedicationDispense": _dispenses,
    "ClaimResponse": _claims,
    "Patient": _patients,
}


async def matches(search: Search, queries: PrescriptionQueries, scope: str | None) -> list[dict[str, Any]]:
    """Every resource of the search's type that ``scope`` may see (None: staff, all) and that it matches."""
    found = await _SOURCES[search.resource_type](search, queries, scope)
    return [c.resource for c in found if search.matches(c)]
