"""Reads of the ids searches hand out for fills: ``MedicationDispense/<order id>-<fill>`` and
``ClaimResponse/<order id>-<fill>-claim`` (``fhir_views_from_hub``): each reads the resource with that id."""

from __future__ import annotations

import re
from typing import Any

from adapters.fhir.door import FhirDoor
from adapters.fhir.fhir_views_from_hub import claim_snapshots, fill_snapshots
from adapters.fhir.views import claim_response_view, medication_dispense_view
from hub.errors import NotFound

_ORDER = r"(?P<order>[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})"
_DISPENSE = re.compile(rf"^{_ORDER}-(?P<fill>\d+)$")
_CLAIM = re.compile(rf"^{_ORDER}-(?P<fill>\d+)-claim$")


async def medication_dispense(door: FhirDoor, resource_id: str, scope: str | None) -> dict[str, Any]:
    """GET /MedicationDispense/{id}: one fill of an order this reader may see."""
    found = _DISPENSE.fullmatch(resource_id)
    rx = await door.prescription(found.group("order"), scope, by_correlation_only=True) if found else None
    for fill in fill_snapshots(rx) if rx is not None else []:
        if fill.id == resource_id:
            return medication_dispense_view(fill)
    raise NotFound(f"MedicationDispense/{resource_id} is not known")


async def claim_response(door: FhirDoor, resource_id: str, scope: str | None) -> dict[str, Any]:
    """GET /ClaimResponse/{id}: the payer's latest answer for one fill of an order this reader may see."""
    found = _CLAIM.fullmatch(resource_id)
    rx = await door.prescription(found.group("order"), scope, by_correlation_only=True) if found else None
    for claim in claim_snapshots(rx) if rx is not None else []:
        if claim.id == resource_id:
            return claim_response_view(claim)
    raise NotFound(f"ClaimResponse/{resource_id} is not known")
