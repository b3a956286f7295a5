"""The FHIR reads: hub state rendered as R4 resources, and the CapabilityStatement.

An order is readable once a worker has recorded it (a few milliseconds to seconds after its 201): until
then GET /MedicationRequest/{id} answers 404 and a search (``search_sources``) finds nothing.
``ClaimResponse?request=`` takes the MedicationRequest (the claim itself travels as NCPDP D.0, so there is
no FHIR Claim to point at).
"""

from __future__ import annotations

import asyncio
from typing import Any

from adapters.fhir.capability import capability_statement
from adapters.fhir.door import FhirDoor, utc_now
from adapters.fhir.fhir_views_from_hub import (
    patient_snapshot,
    prescription_snapshot,
)
from adapters.fhir.refusal_views import refused_view, with_refusal_tags
from adapters.fhir.search_params import declared
from adapters.fhir.views import medication_request_view, patient_view
from hub.errors import NotFound
from hub.service.ports import PrescriptionQueries


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
    raise NotFound(
        f"MedicationRequest/{resource_id} is not known (yet): an accepted order is readable "
        "once the pharmacy has recorded it"
    )


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
    rest["resource"].append(
        {
            "type": "ClaimResponse",
            "interaction": [{"code": "read"}, {"code": "search-type"}],
            "searchParam": declared("ClaimResponse"),
        }
    )
    rest["resource"].append(
        {
            "type": "AuditEvent",
            "interaction": [{"code": "search-type"}],
            "documentation": "admins only: the hub's audit trail (outcome 0 success, 4 refused, 8 hub failure)",
            "searchParam": [
                {"name": n, "type": t} for n, t in (("date", "date"), ("patient", "reference"), ("agent", "reference"))
            ],
        }
    )
    rest["resource"].append(
        {
            "type": "Bundle",
            "interaction": [{"code": "create"}, {"code": "read"}],
            "documentation": "POST a document Bundle (e.g. an e-prescription): its MedicationRequests are accepted "
            "all or none, then the Bundle is created (201, Location Bundle/{id}; a resend of the "
            "same document identifier answers 200 with the Bundle kept). Its sender reads it back "
            "until received messages are purged. Prefer: return=OperationOutcome names each order.",
        }
    )
    return statement
