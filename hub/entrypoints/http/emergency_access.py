"""Which role a request acts with: the user's own, or the one a break-glass grant gives them for now.

Apart from the grant routes (``break_glass_routes``) so that authentication (``auth``) can use it.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace

from fastapi import Request

from hub.persistence.break_glass import BreakGlass, GrantCache
from hub.persistence.users import User


def grants(request: Request) -> GrantCache:
    """The app's break-glass grants (made on first use)."""
    cache: GrantCache | None = getattr(request.app.state, "break_glass", None)
    if cache is None:
        store = BreakGlass(request.app.state.engine, max_minutes=request.app.state.settings.break_glass_max_minutes)
        cache = request.app.state.break_glass = GrantCache(store)
    return cache


async def elevated(request: Request, user: User) -> User:
    """The user with the role of their break-glass grant while one is in force (staff only)."""
    if user.role == "feed":
        return user
    cache = grants(request)
    grant = cache.current(user.id) if cache.known(user.id) else await asyncio.to_thread(cache.current, user.id)
    if grant is None:
        return user
    request.state.break_glass = grant.id
    return replace(user, role=grant.role)
