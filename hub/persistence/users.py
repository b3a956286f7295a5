"""Users and their API tokens: created by ``rxhub users add``, looked up by token hash per request."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, insert, select, update

from hub.persistence.database import read_connection
from hub.persistence.tables import users

#: staff roles, plus "feed" for systems that send orders over HTTP (FHIR, SCRIPT) and nothing else
ROLES = ("technician", "pharmacist", "admin", "feed")


@dataclass(frozen=True)
class User:
    """An authenticated person or client."""

    id: str
    name: str
    role: str
    licence: str | None


def hash_token(token: str) -> str:
    """Tokens are long random strings, so a plain SHA-256 is enough (no dictionary to attack)."""
    return hashlib.sha256(token.encode()).hexdigest()


class UserStore:
    """Create, look up and revoke users."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def add(
        self, name: str, role: str, licence: str | None = None, expires_days: int | None = None
    ) -> tuple[User, str]:
        """Create a user; returns the user and the token, which is not stored and cannot be shown again."""
        if role not in ROLES:
            raise ValueError(f"role must be one of {', '.join(ROLES)}")
        token = "rxh_" + secrets.token_urlsafe(32)
        user = User(str(uuid.uuid4()), name, role, licence)
        with self._engine.begin() as conn:
            conn.execute(
                insert(users).values(
                    id=user.id,
                    name=name,
                    role=role,
                    licence=licence,
                    token_hash=hash_token(token),
                    created_at=datetime.now(UTC),
                    expires_at=datetime.now(UTC) + timedelta(days=expires_days) if expires_days else None,
                )
            )
        return user, token

    def by_token(self, token: str) -> User | None:
        """The active user holding this token."""
        with read_connection(self._engine) as conn:
            row = (
                conn.execute(select(users).where(users.c.token_hash == hash_token(token), users.c.revoked_at.is_(None)))
                .mappings()
                .first()
            )
        return User(row["id"], row["name"], row["role"], row["licence"]) if row else None

    def revoke(self, name: str) -> bool:
        """Revoke a user's token; returns whether one was active."""
        with self._engine.begin() as conn:
            result = conn.execute(
                update(users)
                .where(users.c.name == name, users.c.revoked_at.is_(None))
                .values(revoked_at=datetime.now(UTC))
            )
        return result.rowcount > 0

    def list(self) -> list[tuple[User, bool]]:
        """Every user with whether it is active."""
        with self._engine.connect() as conn:
            rows = conn.execute(select(users).order_by(users.c.name)).mappings().all()
        return [(User(r["id"], r["name"], r["role"], r["licence"]), r["revoked_at"] is None) for r in rows]
