"""The FHIR reads: hub state rendered as R4 resources and searchset Bundles.

An order is readable once a worker has recorded it (a few milliseconds to seconds after its 201): until
then GET /MedicationRequest/{id} answers 404 and a search finds nothing. The searches take exactly one
reference parameter; ``ClaimResponse?request=`` takes the MedicationRequest (the claim itself travels as
NCPDP D.0, so there is no FHIR Claim to point at).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from adapters.fhir.capability import capability_statement
from adapters.fhir.door import FhirDoor, utc_now
from adapters.fhir.fhir_views_from_hub import (
    claim_snapshots,
    fill_snapshots,
    patient_snapshot,
    prescription_snapshot,
)
from adapters.fhir.refusal_views import refused_view, with_refusal_tags
from adapters.fhir.views import claim_response_view, medication_dispense_view, medication_request_view, patient_view
from hub.domain.prescription import Prescription
from hub.errors import NotFound
from hub.service.ports import PrescriptionQueries


def _reference_id(reference: str, resource_type: str) -> str | None:
    """The id in ``Type/id``, ``[base]/Type/id`` or a bare ``id``; None when it names another type."""
    parts = reference.strip().rstrip("/").split("/")
    if len(parts) == 1:
        return parts[0] or None
    return parts[-1] if parts[-2] == resource_type and parts[-1] else None


def searchset(base: str, self_url: str, resources: list[dict[str, Any]]) -> dict[str, Any]:
    """A searchset Bundle of matches (R4 search: 200 with total 0 when nothing matches)."""
    entries = [
        {"fullUrl": f"{base}{r['resourceType']}/{r['id']}", "resource": r, "search": {"mode": "match"}}
        for r in resources
    ]
    return {
        "resourceType": "Bundle",
        "type": "searchset",
        "total": len(entries),
        "link": [{"relation": "self", "url": self_url}],
        "entry": entries,
    }


async def medication_request(door: FhirDoor, resource_id: str, scope: str | None) -> dict[str, Any]:
    """GET /MedicationRequest/{id}: the order with its current status (a feed reads its own orders only), and
    any refusal of an order submitted under it (``refusal_views``)."""
    rx, refusals = await asyncio.gather(door.prescription(resource_id, scope), door.refusals(resource_id, scope))
    if rx is not None:
        view = medication_request_view(prescription_snapshot(rx))
        return with_refusal_tags(view, refusals) if refusals else view
    if refusals:
        submitted = await door.submitted(refusals[-1])
        if submitted is not None:
            return refused_view(submitted, refusals[-1])
        raise NotFound(f"MedicationRequest/{resource_id} was not kept: {refusals[-1].reason}")
    raise NotFound(f"MedicationRequest/{resource_id} is not known (yet): an accepted order is readable "
                   "once the pharmacy has recorded it")


async def _by_request(door: FhirDoor, reference: str, scope: str | None,
                      render: Callable[[Prescription], list[dict[str, Any]]]) -> list[dict[str, Any]]:
    resource_id = _reference_id(reference, "MedicationRequest")
    rx = await door.prescription(resource_id, scope) if resource_id else None
    return render(rx) if rx is not None else []


async def dispenses(door: FhirDoor, prescription: str, scope: str | None) -> list[dict[str, Any]]:
    """GET /MedicationDispense?prescription=: every fill of the order, original first."""
    return await _by_request(door, prescription, scope,
                             lambda rx: [medication_dispense_view(f) for f in fill_snapshots(rx)])


async def claim_responses(door: FhirDoor, request: str, scope: str | None) -> list[dict[str, Any]]:
    """GET /ClaimResponse?request=: the payer's latest answer for each billed fill of the order."""
    return await _by_request(door, request, scope, lambda rx: [claim_response_view(c) for c in claim_snapshots(rx)])


async def patient(queries: PrescriptionQueries, patient_id: str, scope: str | None) -> dict[str, Any]:
    """GET /Patient/{id}: a patient the pharmacy knows; a feed reads only the patients of its own orders."""
    found = await asyncio.to_thread(queries.patient, patient_id, scope)
    if found is None:
        raise NotFound(f"Patient/{patient_id} is not known")
    return patient_view(patient_snapshot(found))


def capabilities(base: str) -> dict[str, Any]:
    """The CapabilityStatement, with the ClaimResponse search and the document submission this door adds."""
    statement = capability_statement(base, now=utc_now())
    rest = statement["rest"][0]
    rest["resource"].append({
        "type": "ClaimResponse",
        "interaction": [{"code": "search-type"}],
        "searchParam": [{"name": "request", "type": "reference",
                         "documentation": "the MedicationRequest whose fills were billed (MedicationRequest/{id})"}],
    })
    rest["resource"].append({
        "type": "Bundle",
        "interaction": [{"code": "create"}],
        "documentation": "POST a document Bundle (e.g. an e-prescription): its MedicationRequests are accepted "
                         "all or none; the answer is an OperationOutcome naming each order. The Bundle itself "
                         "is not stored.",
    })
    return statement
