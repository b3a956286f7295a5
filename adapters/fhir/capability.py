"""The server's R4 CapabilityStatement (GET /fhir/metadata): exactly what the hub supports, no more.

Kept next to the mapping so a change in what we accept and this statement are reviewed together.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from adapters.fhir.bundles import BUNDLE_KINDS
from adapters.fhir.mapping import ACCEPTED_INTENTS
from adapters.fhir.search_params import declared

FHIR_VERSION = "4.0.1"
FORMATS = ("application/fhir+json", "json")


def _medication_request() -> dict[str, Any]:
    intents = ", ".join(sorted(ACCEPTED_INTENTS))
    return {
        "type": "MedicationRequest",
        "documentation": (
            f"create accepts intent {intents}; status active/draft is a new order, cancelled/stopped a "
            "cancellation. Conditional create (If-None-Exist) keys on identifier: the one typed PLAC, "
            "else the first. medication must be inline, contained or in the same Bundle."
        ),
        "interaction": [{"code": "create"}, {"code": "read"}, {"code": "search-type"}],
        "versioning": "versioned",
        "conditionalCreate": True,
        "searchParam": declared("MedicationRequest"),
    }


def _resource(resource_type: str, *, read: bool) -> dict[str, Any]:
    interactions = [{"code": "read"}] if read else []
    return {
        "type": resource_type,
        "interaction": [*interactions, {"code": "search-type"}],
        "searchParam": declared(resource_type),
    }


def capability_statement(base_url: str, *, now: datetime) -> dict[str, Any]:
    """An R4 CapabilityStatement for the hub's FHIR endpoints at ``base_url``."""
    moment = now if now.tzinfo else now.replace(tzinfo=UTC)
    kinds = ", ".join(k.value for k in BUNDLE_KINDS if k.value in ("transaction", "batch"))
    return {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": moment.isoformat(timespec="seconds"),
        "kind": "instance",
        "software": {"name": "RxHub"},
        "implementation": {
            "description": "RxHub pharmacy integration hub, FHIR R4 endpoint",
            "url": base_url,
        },
        "fhirVersion": FHIR_VERSION,
        "format": list(FORMATS),
        "rest": [
            {
                "mode": "server",
                "documentation": f"POST [base] takes a {kinds} Bundle (transaction: all or nothing). Searches "
                "(GET, or POST [type]/_search with a form) page with _count and _offset; a feed "
                "finds only its own orders and their patients. Unknown parameters are ignored, or "
                "refused with Prefer: handling=strict.",
                "resource": [
                    _medication_request(),
                    _resource("MedicationDispense", read=True),
                    _resource("Patient", read=True),
                ],
                "interaction": [{"code": "transaction"}, {"code": "batch"}],
                "operation": [
                    {
                        "name": "process-message",
                        "definition": "http://hl7.org/fhir/OperationDefinition/MessageHeader-process-message",
                        "documentation": "message Bundle, MessageHeader first, focus on MedicationRequest(s)",
                    }
                ],
            }
        ],
        "messaging": [
            {
                "documentation": "prescription orders and cancellations; replies are message Bundles",
            }
        ],
    }
