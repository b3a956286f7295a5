"""``GET /api/admin/audit``: the audit trail for admins, as entries or as FHIR AuditEvents, and its verification.

A router factory taking the admin dependency and the trail's provider, like the adapters' routers:
hub.security does not reach into the HTTP entrypoint for them.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import Response

from hub.persistence.audit import AuditEntry, AuditTrail
from hub.security.audit_chain import utc_text
from hub.security.audit_export import FHIR_JSON, audit_bundle
from hub.security.audit_search import date_range, reference_id


def _plain(entry: AuditEntry) -> dict[str, Any]:
    return entry.__dict__ | {"at": utc_text(entry.at)}


def _later(a: datetime | None, b: datetime | None) -> datetime | None:
    return max((t for t in (a, b) if t is not None), default=None, key=_comparable)


def _earlier(a: datetime | None, b: datetime | None) -> datetime | None:
    return min((t for t in (a, b) if t is not None), default=None, key=_comparable)


def _comparable(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def audit_router(admin: Callable[..., Any], audit_trail: Callable[..., AuditTrail]) -> APIRouter:
    """Routes under /api/admin guarded by ``admin``, over the trail ``audit_trail`` provides; reading the
    trail is itself audited."""
    router = APIRouter(prefix="/api/admin", tags=["admin"])

    @router.get("/audit")
    async def audit(
        request: Request,
        patient_id: str | None = None,
        prescription_id: str | None = None,
        actor: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        format: str = "json",
        limit: int = Query(500, ge=1, le=5000),
        date: list[str] = Query(default=[]),
        patient: str | None = None,
        agent: str | None = None,
        count: int | None = Query(default=None, alias="_count", ge=0),
        user: Any = Depends(admin),
        trail: AuditTrail = Depends(audit_trail),
    ) -> Any:
        """Entries by patient, prescription, user and time range; ``format=fhir`` gives a searchset Bundle of
        AuditEvents (``application/fhir+json``). The FHIR search parameters ``date`` (eq/ge/gt/le/lt),
        ``patient``, ``agent`` and ``_count`` work in either format."""
        try:
            span = date_range(date)
        except ValueError as exc:
            raise HTTPException(400, str(exc)) from None
        patient_id = patient_id or reference_id(patient, "Patient")
        entries = await asyncio.to_thread(
            trail.query,
            patient_id=patient_id,
            prescription_id=prescription_id,
            actor=actor or agent,
            since=_later(since, span.since),
            until=_earlier(until, span.until),
            limit=min(count if count is not None else limit, 5000),
        )
        await asyncio.to_thread(
            trail.record,
            actor=user.name,
            role=user.role,
            action="read audit trail",
            prescription_id=prescription_id,
            patient_id=patient_id,
        )
        if format == "fhir":
            return Response(json.dumps(audit_bundle(entries, str(request.url))), media_type=FHIR_JSON)
        return [_plain(e) for e in entries]

    @router.get("/audit/verify")
    async def verify(
        anchor: str | None = None, user: Any = Depends(admin), trail: AuditTrail = Depends(audit_trail)
    ) -> dict[str, Any]:
        """Walk the hash chain; ``ok`` false with the broken links when anything was altered."""
        report = await asyncio.to_thread(trail.verify, anchor=anchor)
        return report.model_dump() | {"ok": report.ok}

    return router
