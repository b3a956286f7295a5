"""Bearer-token authentication and role checks for every HTTP route; refusals are audited.

Tokens expire (hub.security.tokens); failed attempts are counted per client address and per token prefix and,
past the limit, further failures from that address or with that prefix get 429 for a while, unaudited
(hub.security.rate_limit.AuthThrottle); a valid token is admitted even then. The client address is the
connection's own unless it is a trusted proxy (``RXHUB_TRUSTED_PROXIES``), whose X-Forwarded-For is believed.

The dependencies are coroutines: a token found in the process's ``TokenCache`` costs no database read and
no thread; a miss, and the audit entry of a refusal, run on a worker thread, never on the event loop.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, NoReturn

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from hub.entrypoints.http.dependencies import services_of
from hub.entrypoints.http.emergency_access import elevated
from hub.persistence.users import User, hash_token
from hub.security.rate_limit import AuthThrottle
from hub.security.sessions import ACTIVITY_HEADER, BACKGROUND, IdleSessions
from hub.security.tokens import TokenCache, TokenVerdict, lookup, verdict

_bearer = HTTPBearer(auto_error=False)


def token_cache(app: FastAPI) -> TokenCache:
    """The app's token cache: evict from it whatever this process revokes."""
    return services_of(app).token_cache


async def _audit(request: Request, **entry: Any) -> None:
    # a refusal that cannot be audited is not answered either: DatabaseUnavailable, a 503
    await services_of(request.app).audit.record_soon(action=f"{request.method} {request.url.path}", **entry)


async def _authenticate(request: Request, token: str) -> tuple[User | None, TokenVerdict]:
    services, token_hash = services_of(request.app), hash_token(token)
    holder = services.token_cache.get(token_hash)
    if holder is None:
        holder = await asyncio.to_thread(lookup, services.engine, token_hash)
        if holder is not None:
            services.token_cache.put(token_hash, holder)
    s = services.settings
    return verdict(holder, staff_days=s.token_max_age_days, feed_days=s.feed_token_max_age_days)


def idle_sessions(app: FastAPI) -> IdleSessions:
    """The app's staff session clocks."""
    return services_of(app).idle_sessions


async def _session_holds(request: Request, token: str, user: User, signing_in: bool) -> bool:
    """Staff tokens only: False (audited) when the session has been idle past the limit."""
    if user.role == "feed":
        return True
    sessions, token_hash = idle_sessions(request.app), hash_token(token)
    if signing_in:
        sessions.restart(token_hash)
        return True
    if sessions.admit(token_hash, background=request.headers.get(ACTIVITY_HEADER) == BACKGROUND):
        return True
    client = request.client.host if request.client else "unknown"
    await _audit(
        request,
        actor=user.name,
        role=user.role,
        outcome=TokenVerdict.EXPIRED.value,
        detail={"client": client, "reason": f"session idle for more than {sessions.idle_s / 60:g} minutes"},
    )
    return False


async def _user(
    request: Request, credentials: HTTPAuthorizationCredentials | None, *, signing_in: bool = False
) -> User:
    token = credentials.credentials if credentials else None
    user, found = await _authenticate(request, token) if token else (None, TokenVerdict.UNKNOWN)
    if user is not None and found is TokenVerdict.OK:
        if not await _session_holds(request, str(token), user, signing_in):
            raise HTTPException(
                status_code=401,
                detail="your session ended after a time without activity; sign in again (POST /api/session)",
                headers={"WWW-Authenticate": "Bearer"},
            )
        user = await elevated(request, user)  # a break-glass grant in force gives its role
        request.state.user = user  # for the read audit of the FHIR door (hub.entrypoints.http.app)
        return user
    client = request.client.host if request.client else "unknown"
    throttle, prefix = services_of(request.app).auth_throttle, AuthThrottle.prefix_key(token)
    wait = throttle.retry_after(client, prefix)
    if wait is not None:
        await _audit_lockout(request, client, prefix, wait)
        raise HTTPException(
            status_code=429,
            detail="too many failed authentications; try again later",
            headers={"Retry-After": str(int(wait) + 1)},
        )
    locked = throttle.failed(client, prefix)
    await _audit(
        request,
        actor=user.name if user else "anonymous",
        role=user.role if user else "none",
        outcome=found.value,
        detail={"client": client, "locked_out": locked},
    )
    raise HTTPException(
        status_code=401, detail="a valid bearer token is required", headers={"WWW-Authenticate": "Bearer"}
    )


async def _audit_lockout(request: Request, client: str, prefix: str | None, wait: float) -> None:
    """A 429 in the audit trail: the first of each address and prefix, then one a minute with the count."""
    skipped = services_of(request.app).lockout_sampler.take((client, prefix))
    if skipped is not None:
        await _audit(
            request,
            actor="anonymous",
            role="none",
            outcome="locked-out",
            detail={
                "client": client,
                "token_prefix": prefix,
                "retry_after_s": round(wait),
                "reason": "too many failed authentications",
                "unaudited_before": skipped,
            },
        )


async def current_user(request: Request, credentials: HTTPAuthorizationCredentials | None = Depends(_bearer)) -> User:
    """The user behind the bearer token, or 401 (429 for failures while their address or prefix is locked out)."""
    return await _user(request, credentials)


async def signing_in_user(
    request: Request, credentials: HTTPAuthorizationCredentials | None = Depends(_bearer)
) -> User:
    """``current_user`` for ``POST /api/session``: a valid token (re)starts its session whatever its idle time."""
    return await _user(request, credentials, signing_in=True)


def require(*roles: str, licensed: bool = False) -> Callable[..., Any]:
    """A dependency that admits only the given roles; a refusal is 403 and is audited.

    ``licensed``: the user must also have a licence number on file (the pharmacist gate: verification, DUR
    overrides, verbal orders), refused here rather than answered 202 for the worker to refuse later.
    One dependency level (the bearer scheme under it), not ``current_user`` under it: every request solves it.
    """

    async def check(request: Request, credentials: HTTPAuthorizationCredentials | None = Depends(_bearer)) -> User:
        user = await _user(request, credentials)
        if user.role not in roles:
            await forbid(request, user, f"requires role {' or '.join(roles)}")
        if licensed and not user.licence:
            await forbid(
                request, user, f"{user.name} has no licence number on file: a {user.role} may not do this without one"
            )
        return user

    return check


async def forbid(request: Request, user: User, reason: str) -> NoReturn:
    """Refuse the request with 403, audited as forbidden with the reason."""
    await _audit(
        request,
        actor=user.name,
        role=user.role,
        outcome="forbidden",
        prescription_id=request.path_params.get("prescription_id"),
        detail={"reason": reason},
    )
    raise HTTPException(status_code=403, detail=reason)
