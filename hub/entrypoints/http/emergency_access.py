"""Which role a request acts with: the user's own, or the one a break-glass grant gives them for now.

Apart from the grant routes (``break_glass_routes``) so that authentication (``auth``) can use it.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace

from fastapi import Request

from hub.entrypoints.http.dependencies import services_of
from hub.persistence.break_glass import GrantCache
from hub.persistence.users import User


def grants(request: Request) -> GrantCache:
    """The app's break-glass grants."""
    return services_of(request.app).break_glass


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
