"""``POST /api/session``: sign in (again), or report activity in the console (hub.security.sessions)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends

from hub.entrypoints.http.auth import signing_in_user
from hub.entrypoints.http.dependencies import Services
from hub.persistence.users import User

router = APIRouter(prefix="/api", tags=["staff"])


@router.post("/session")
async def session(services: Services, user: User = Depends(signing_in_user)) -> dict[str, Any]:
    """Start (or restart) the token's session; it ends after ``idle_minutes`` without activity."""
    return {"user": user.name, "role": user.role, "idle_minutes": services.idle_sessions.idle_s / 60}
