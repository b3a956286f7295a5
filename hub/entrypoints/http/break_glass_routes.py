"""``/api/admin/break-glass``: an admin gives a user emergency access for a while, with a reason; alerted.

Every grant is audited (hub.persistence.break_glass), logged at WARNING with ``event: security.break_glass``,
counted in ``rxhub_break_glass_total`` (the RxHubBreakGlass alert pages on it), and listed here while active.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from fastapi import APIRouter, Depends, HTTPException
from pydantic import BaseModel, ConfigDict, Field

from hub.entrypoints.http.auth import require
from hub.entrypoints.http.dependencies import Services
from hub.observability.metrics import BREAK_GLASS
from hub.persistence.break_glass import Grant, GrantRefused
from hub.persistence.users import User

log = logging.getLogger(__name__)
router = APIRouter(prefix="/api/admin/break-glass", tags=["admin"])
ADMIN = require("admin")


class GrantRequest(BaseModel):
    """Who gets which role, for how long, and why (the reason is mandatory)."""

    model_config = ConfigDict(extra="forbid")
    user: str = Field(min_length=1, max_length=100)
    role: str = Field(min_length=1, max_length=20)
    minutes: int = Field(ge=1)
    reason: str = Field(min_length=1, max_length=2000)


def _view(grant: Grant) -> dict[str, Any]:
    return {
        "id": grant.id,
        "user": grant.user_name,
        "role": grant.role,
        "reason": grant.reason,
        "granted_by": grant.granted_by,
        "granted_at": grant.granted_at.isoformat(),
        "expires_at": grant.expires_at.isoformat(),
    }


@router.post("", status_code=201)
async def grant(body: GrantRequest, services: Services, user: User = Depends(ADMIN)) -> dict[str, Any]:
    """Give ``user`` the ``role`` for ``minutes`` (at most RXHUB_BREAK_GLASS_MAX_MINUTES) with a reason."""
    cache, store = services.break_glass, services.grant_store()
    try:
        given = await asyncio.to_thread(
            store.grant, user_name=body.user, role=body.role, reason=body.reason, minutes=body.minutes, by=user.name
        )
    except GrantRefused as exc:
        raise HTTPException(422, str(exc)) from exc
    cache.forget(given.user_id)
    BREAK_GLASS.labels("granted").inc()
    log.warning(
        "break-glass: %s granted %s the %s role until %s",
        user.name,
        given.user_name,
        given.role,
        given.expires_at.isoformat(),
        extra={"event": "security.break_glass", "grant_id": given.id},
    )
    return _view(given)


@router.get("")
async def active(services: Services, user: User = Depends(ADMIN)) -> list[dict[str, Any]]:
    """The grants in force now."""
    store = services.grant_store()
    return [_view(g) for g in await asyncio.to_thread(store.active)]


@router.delete("/{grant_id}")
async def end(grant_id: str, services: Services, user: User = Depends(ADMIN)) -> dict[str, Any]:
    """End a grant now."""
    store = services.grant_store()
    ended = await asyncio.to_thread(store.end, grant_id, by=user.name)
    if ended is None:
        raise HTTPException(404, "no such active grant")
    services.break_glass.forget(ended.user_id)
    BREAK_GLASS.labels("ended").inc()
    log.warning(
        "break-glass: %s ended the grant to %s",
        user.name,
        ended.user_name,
        extra={"event": "security.break_glass_end", "grant_id": ended.id},
    )
    return _view(ended) | {"ended_at": ended.ended_at.isoformat() if ended.ended_at else None}
