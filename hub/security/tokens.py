"""Bearer-token checks beyond the lookup: expiry by age (per role) or by an explicit expiry, revocation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.exc import OperationalError

from hub.errors import DatabaseUnavailable
from hub.persistence.database import read_connection
from hub.persistence.tables import users
from hub.persistence.users import User, hash_token


class TokenVerdict(StrEnum):
    """Why a token was or was not accepted (the outcome written to the audit trail)."""

    OK = "ok"
    UNKNOWN = "unauthenticated"
    EXPIRED = "expired"


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def expires_at(row: Any, *, staff_days: int, feed_days: int) -> datetime:
    """An explicit expiry when the user has one, else issue time plus the role's maximum age."""
    explicit = row.get("expires_at")
    if explicit is not None:
        return _aware(explicit)
    days = feed_days if row["role"] == "feed" else staff_days
    return _aware(row["created_at"]) + timedelta(days=days)


def authenticate(engine: Engine, token: str, *, staff_days: int, feed_days: int,
                 now: datetime | None = None) -> tuple[User | None, TokenVerdict]:
    """The active, unexpired user holding this token, with the verdict for the audit trail."""
    try:
        with read_connection(engine) as conn:
            row = conn.execute(select(users).where(users.c.token_hash == hash_token(token),
                                                   users.c.revoked_at.is_(None))).mappings().first()
    except OperationalError as exc:  # database down: 503 and "resend later", not a 500
        raise DatabaseUnavailable(f"cannot check the token: {type(exc.orig).__name__}") from exc
    if row is None:
        return None, TokenVerdict.UNKNOWN
    user = User(row["id"], row["name"], row["role"], row["licence"])
    if expires_at(row, staff_days=staff_days, feed_days=feed_days) <= (now or datetime.now(UTC)):
        return user, TokenVerdict.EXPIRED
    return user, TokenVerdict.OK
