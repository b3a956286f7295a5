"""Bearer-token authentication and role checks for every HTTP route; refusals are audited."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from hub.persistence.audit import AuditTrail
from hub.persistence.users import User, UserStore

_bearer = HTTPBearer(auto_error=False)


def current_user(
    request: Request, credentials: HTTPAuthorizationCredentials | None = Depends(_bearer)
) -> User:
    """The user behind the bearer token, or 401."""
    store: UserStore = request.app.state.users
    user = store.by_token(credentials.credentials) if credentials else None
    if user is None:
        audit: AuditTrail = request.app.state.audit
        audit.record(actor="anonymous", role="none", action=f"{request.method} {request.url.path}",
                     outcome="unauthenticated")
        raise HTTPException(status_code=401, detail="a valid bearer token is required",
                            headers={"WWW-Authenticate": "Bearer"})
    return user


def require(*roles: str) -> Callable[..., User]:
    """A dependency that admits only the given roles; a refusal is 403 and is audited."""

    def check(request: Request, user: User = Depends(current_user)) -> User:
        if user.role not in roles:
            audit: AuditTrail = request.app.state.audit
            audit.record(actor=user.name, role=user.role, action=f"{request.method} {request.url.path}",
                         prescription_id=request.path_params.get("prescription_id"), outcome="forbidden")
            raise HTTPException(status_code=403, detail=f"requires role {' or '.join(roles)}")
        return user

    return check
