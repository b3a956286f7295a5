"""``POST /api/session``: sign in (again), or report activity in the console (hub.security.sessions)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request

from hub.entrypoints.http.auth import idle_sessions, signing_in_user
from hub.persistence.users import User

router = APIRouter(prefix="/api", tags=["staff"])


@router.post("/session")
async def session(request: Request, user: User = Depends(signing_in_user)) -> dict[str, Any]:
    """Start (or restart) the token's session; it ends after ``idle_minutes`` without activity."""
    return {"user": user.name, "role": user.role, "idle_minutes": idle_sessions(request.app).idle_s / 60}
