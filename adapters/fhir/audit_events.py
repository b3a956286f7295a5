"""``GET /fhir/AuditEvent``: the audit trail searched as a FHIR server would, for admins' audit tools.

The same export as ``GET /api/admin/audit?format=fhir`` (``hub.security.audit_export``): a searchset of R4
AuditEvents, by ``date`` (eq/ge/gt/le/lt), ``patient``, ``agent`` and ``_count``. A feed is refused (403):
the trail names every sender's traffic. The read is itself audited.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import Response

from adapters.fhir.json_body import FHIR_JSON, fhir_json
from adapters.fhir.preferences import preferences, strict
from hub.persistence.audit import AuditTrail
from hub.security.audit_export import audit_bundle
from hub.security.audit_search import date_range, reference_id

#: the search parameters this endpoint applies; any other is ignored, or refused with Prefer: handling=strict
PARAMETERS = frozenset({"date", "patient", "agent", "_count", "_format"})
MAX_COUNT = 5000


def _count(request: Request) -> int:
    raw = request.query_params.get("_count", "500")
    if not raw.isdigit():
        raise HTTPException(400, f"_count={raw}: not a count")
    return min(int(raw), MAX_COUNT)


def add_audit_event_search(router: APIRouter, auth: Callable[..., Any], audit_trail: Callable[..., AuditTrail]) -> None:
    """Add the AuditEvent search to the /fhir router, over the trail ``audit_trail`` provides."""

    @router.get("/AuditEvent")
    async def search_audit_events(
        request: Request, user: Any = Depends(auth), trail: AuditTrail = Depends(audit_trail)
    ) -> Response:
        """Audit entries as AuditEvents (admins only): date, patient, agent, _count."""
        if user.role != "admin":
            raise HTTPException(403, "the audit trail is for admins")
        unknown = sorted(set(request.query_params) - PARAMETERS)
        if unknown and strict(preferences(request.headers.getlist("prefer"))):
            raise HTTPException(400, f"unknown search parameter(s) for AuditEvent: {', '.join(unknown)}")
        try:
            span = date_range(request.query_params.getlist("date"))
        except ValueError as exc:
            raise HTTPException(400, str(exc)) from None
        patient_id = reference_id(request.query_params.get("patient"), "Patient")
        entries = await asyncio.to_thread(
            trail.query,
            patient_id=patient_id,
            actor=request.query_params.get("agent"),
            since=span.since,
            until=span.until,
            limit=_count(request),
        )
        await asyncio.to_thread(
            trail.record, actor=user.name, role=user.role, action="read audit trail", patient_id=patient_id
        )
        return Response(fhir_json(audit_bundle(entries, str(request.url))), media_type=FHIR_JSON)
