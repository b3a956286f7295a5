"""Emergency access ("break glass"): a higher role an admin gives a named user for a bounded time.

HIPAA's emergency access procedure: when the pharmacist on duty cannot be reached, an admin may let a user act
with another role for minutes, never silently. The grant needs a reason; the grant and its early end are
written with their audit entries in one transaction, and while it lasts every request of the user carries the
granted role (each audited by its route as usual, under the user's own name). A licence is never granted:
pharmacist-only steps still need one on file.

The doors look active grants up per request through ``GrantCache``: a grant made or ended in another process
takes effect there within ``CACHE_S`` seconds, one made or ended in the same process at once.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, select, update

from hub.errors import RxHubError
from hub.persistence import audit
from hub.persistence.database import read_connection
from hub.persistence.tables import break_glass_grants, users

#: the roles a grant may give
GRANTABLE = ("pharmacist", "admin")
#: the shortest reason accepted: a word or two is not a reason
MIN_REASON_CHARS = 10
#: how long a process trusts what it read about a user's grants
CACHE_S = 5.0


class GrantRefused(RxHubError):
    """The grant cannot be given (no such user, a feed, a role not grantable, no reason, too long)."""


@dataclass(frozen=True)
class Grant:
    """One break-glass grant."""

    id: str
    user_id: str
    user_name: str
    role: str
    reason: str
    granted_by: str
    granted_at: datetime
    expires_at: datetime
    ended_at: datetime | None = None

    def active(self, now: datetime) -> bool:
        """Whether the grant still holds at ``now``."""
        return self.ended_at is None and _aware(self.granted_at) <= now < _aware(self.expires_at)


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _grant(row: Any) -> Grant:
    return Grant(**{k: row[k] for k in Grant.__dataclass_fields__})


class BreakGlass:
    """Gives, ends and reads break-glass grants."""

    def __init__(self, engine: Engine, *, max_minutes: int) -> None:
        self._engine, self._max = engine, max_minutes

    def grant(self, *, user_name: str, role: str, reason: str, minutes: int, by: str) -> Grant:
        """Give ``user_name`` the role ``role`` for ``minutes``; ``GrantRefused`` says why not."""
        reason = reason.strip()
        if len(reason) < MIN_REASON_CHARS:
            raise GrantRefused(f"a reason of at least {MIN_REASON_CHARS} characters is required")
        if role not in GRANTABLE:
            raise GrantRefused(f"role must be one of {', '.join(GRANTABLE)}")
        if not 1 <= minutes <= self._max:
            raise GrantRefused(f"minutes must be 1 to {self._max} (RXHUB_BREAK_GLASS_MAX_MINUTES)")
        now = datetime.now(UTC)
        with self._engine.begin() as conn:
            user = conn.execute(
                select(users.c.id, users.c.role).where(users.c.name == user_name, users.c.revoked_at.is_(None))
            ).first()
            if user is None or user.role == "feed":
                raise GrantRefused(f"no active staff user {user_name!r}")
            granted = Grant(
                id=str(uuid.uuid4()),
                user_id=user.id,
                user_name=user_name,
                role=role,
                reason=reason,
                granted_by=by,
                granted_at=now,
                expires_at=now + timedelta(minutes=minutes),
            )
            conn.execute(break_glass_grants.insert().values(**granted.__dict__))
            audit.record(
                conn,
                actor=by,
                role="admin",
                action="break-glass grant",
                outcome="ok",
                detail={
                    "grant_id": granted.id,
                    "user": user_name,
                    "from_role": user.role,
                    "role": role,
                    "minutes": minutes,
                    "expires_at": granted.expires_at.isoformat(),
                    "reason": reason,
                },
            )
        return granted

    def end(self, grant_id: str, *, by: str) -> Grant | None:
        """End a grant before it expires; None when there is no such active grant."""
        now = datetime.now(UTC)
        with self._engine.begin() as conn:
            row = conn.execute(select(break_glass_grants).where(break_glass_grants.c.id == grant_id)).mappings().first()
            if row is None or not _grant(row).active(now):
                return None
            conn.execute(
                update(break_glass_grants).where(break_glass_grants.c.id == grant_id).values(ended_at=now, ended_by=by)
            )
            audit.record(
                conn,
                actor=by,
                role="admin",
                action="break-glass end",
                detail={"grant_id": grant_id, "user": row["user_name"], "role": row["role"]},
            )
        return _grant({**row, "ended_at": now})

    def active(self, user_id: str | None = None) -> list[Grant]:
        """The grants in force now (of one user, or all)."""
        now = datetime.now(UTC)
        query = select(break_glass_grants).where(
            break_glass_grants.c.ended_at.is_(None), break_glass_grants.c.expires_at > now
        )
        if user_id is not None:
            query = query.where(break_glass_grants.c.user_id == user_id)
        with read_connection(self._engine) as conn:
            return [g for g in map(_grant, conn.execute(query).mappings().all()) if g.active(now)]


class GrantCache:
    """The active grant of each user, read at most every ``ttl_s`` seconds per user (thread-safe)."""

    def __init__(self, store: BreakGlass, ttl_s: float = CACHE_S, clock: Callable[[], float] = time.monotonic):
        self._store, self._ttl, self._clock = store, ttl_s, clock
        self._seen: dict[str, tuple[float, Grant | None]] = {}
        self._lock = threading.Lock()

    def current(self, user_id: str) -> Grant | None:
        """The user's grant in force now, if any (the longest-lasting of several)."""
        with self._lock:
            seen = self._seen.get(user_id)
        if seen is None or self._clock() >= seen[0]:
            grants = sorted(self._store.active(user_id), key=lambda g: g.expires_at)
            seen = (self._clock() + self._ttl, grants[-1] if grants else None)
            with self._lock:
                self._seen[user_id] = seen
        grant = seen[1]
        return grant if grant is not None and grant.active(datetime.now(UTC)) else None

    def known(self, user_id: str) -> bool:
        """Whether ``current`` would answer from memory (no database read: no thread needed)."""
        with self._lock:
            seen = self._seen.get(user_id)
        return seen is not None and self._clock() < seen[0]

    def forget(self, user_id: str) -> None:
        """Read the user's grants afresh next time (granted or ended in this process)."""
        with self._lock:
            self._seen.pop(user_id, None)
