"""``GET /api/admin/audit``: the audit trail for admins, as entries or as FHIR AuditEvents, and its verification.

A router factory taking the admin dependency, like the adapters' routers: hub.security does not reach
into the HTTP entrypoint for it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Depends, Request

from hub.persistence.audit import AuditEntry, AuditTrail
from hub.security.audit_chain import utc_text
from hub.security.audit_export import audit_bundle


def _plain(entry: AuditEntry) -> dict[str, Any]:
    return entry.__dict__ | {"at": utc_text(entry.at)}


def audit_router(admin: Callable[..., Any]) -> APIRouter:
    """Routes under /api/admin guarded by ``admin``; reading the trail is itself audited."""
    router = APIRouter(prefix="/api/admin", tags=["admin"])

    @router.get("/audit")
    async def audit(request: Request, patient_id: str | None = None, prescription_id: str | None = None,
                    actor: str | None = None, since: datetime | None = None, until: datetime | None = None,
                    format: str = "json", limit: int = 500, user: Any = Depends(admin)) -> Any:
        """Entries by patient, prescription, user and time range; ``format=fhir`` gives a Bundle of AuditEvents."""
        trail: AuditTrail = request.app.state.audit
        entries = await asyncio.to_thread(trail.query, patient_id=patient_id, prescription_id=prescription_id,
                                          actor=actor, since=since, until=until, limit=min(limit, 5000))
        await asyncio.to_thread(trail.record, actor=user.name, role=user.role, action="read audit trail",
                                prescription_id=prescription_id, patient_id=patient_id)
        return audit_bundle(entries) if format == "fhir" else [_plain(e) for e in entries]

    @router.get("/audit/verify")
    async def verify(request: Request, anchor: str | None = None, user: Any = Depends(admin)) -> dict[str, Any]:
        """Walk the hash chain; ``ok`` false with the broken links when anything was altered."""
        trail: AuditTrail = request.app.state.audit
        report = await asyncio.to_thread(trail.verify, anchor=anchor)
        return report.model_dump() | {"ok": report.ok}

    return router
