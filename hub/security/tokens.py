"""Bearer-token checks beyond the lookup: expiry by age (per role) or by an explicit expiry, revocation.

Every HTTP request is authenticated, so the lookup is cached in the process (``TokenCache``): a token seen
within the last ``TOKEN_CACHE_S`` seconds is not looked up again. Only tokens that were found are cached
(a user added a moment ago is admitted at once); expiry is checked on every request against the cached
row. The price is the revocation delay: a token revoked by another process (``rxhub users revoke``) or
changed in the database by hand is still admitted for at most ``TOKEN_CACHE_S`` seconds by a running hub
process; a revocation made in the same process goes through ``TokenCache.evict`` and ends it at once.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.exc import OperationalError

from hub.errors import DatabaseUnavailable
from hub.persistence.database import read_connection
from hub.persistence.tables import users
from hub.persistence.users import User, hash_token

#: how long a found token is trusted without asking the database again (the revocation delay, seconds)
TOKEN_CACHE_S = 5.0
#: most tokens kept; past it the least recently looked-up are dropped
TOKEN_CACHE_SIZE = 10_000


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


@dataclass(frozen=True)
class Holder:
    """The active user a token belongs to, as read from the database: who, and what expiry depends on."""

    user: User
    role: str
    created_at: datetime
    explicit_expiry: datetime | None

    def expires_at(self, *, staff_days: int, feed_days: int) -> datetime:
        """The moment the token stops being accepted."""
        return expires_at(
            {"role": self.role, "created_at": self.created_at, "expires_at": self.explicit_expiry},
            staff_days=staff_days,
            feed_days=feed_days,
        )


class TokenCache:
    """Token hash -> its active holder, for ``ttl_s`` seconds after the lookup (thread-safe, bounded)."""

    def __init__(
        self,
        ttl_s: float = TOKEN_CACHE_S,
        max_entries: int = TOKEN_CACHE_SIZE,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._ttl, self._max, self._clock = ttl_s, max_entries, clock
        self._entries: OrderedDict[str, tuple[float, Holder]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, token_hash: str) -> Holder | None:
        """The holder looked up less than ``ttl_s`` ago, or None (ask the database)."""
        with self._lock:
            entry = self._entries.get(token_hash)
            if entry is None:
                return None
            if self._clock() >= entry[0]:
                del self._entries[token_hash]
                return None
            return entry[1]

    def put(self, token_hash: str, holder: Holder) -> None:
        """Remember a holder just read from the database."""
        if self._ttl <= 0:
            return
        with self._lock:
            self._entries[token_hash] = (self._clock() + self._ttl, holder)
            self._entries.move_to_end(token_hash)
            while len(self._entries) > self._max:
                self._entries.popitem(last=False)

    def evict(self, *, name: str | None = None, user_id: str | None = None) -> int:
        """Forget every token of a user (revoked or changed in this process); how many were dropped."""
        with self._lock:
            gone = [k for k, (_, h) in self._entries.items() if h.user.name == name or h.user.id == user_id]
            for key in gone:
                del self._entries[key]
            return len(gone)

    def clear(self) -> None:
        """Forget every token."""
        with self._lock:
            self._entries.clear()


def lookup(engine: Engine, token_hash: str) -> Holder | None:
    """The active (not revoked) holder of a token hash, from the database."""
    try:
        with read_connection(engine) as conn:
            row = (
                conn.execute(select(users).where(users.c.token_hash == token_hash, users.c.revoked_at.is_(None)))
                .mappings()
                .first()
            )
    except OperationalError as exc:  # database down: 503 and "resend later", not a 500
        raise DatabaseUnavailable(f"cannot check the token: {type(exc.orig).__name__}") from exc
    if row is None:
        return None
    return Holder(
        User(row["id"], row["name"], row["role"], row["licence"]), row["role"], row["created_at"], row.get("expires_at")
    )


def verdict(
    holder: Holder | None, *, staff_days: int, feed_days: int, now: datetime | None = None
) -> tuple[User | None, TokenVerdict]:
    """The user and the verdict for the audit trail, given the token's holder (None: unknown or revoked)."""
    if holder is None:
        return None, TokenVerdict.UNKNOWN
    if holder.expires_at(staff_days=staff_days, feed_days=feed_days) <= (now or datetime.now(UTC)):
        return holder.user, TokenVerdict.EXPIRED
    return holder.user, TokenVerdict.OK


def authenticate(
    engine: Engine,
    token: str,
    *,
    staff_days: int,
    feed_days: int,
    now: datetime | None = None,
    cache: TokenCache | None = None,
) -> tuple[User | None, TokenVerdict]:
    """The active, unexpired user holding this token, with the verdict for the audit trail."""
    token_hash = hash_token(token)
    holder = cache.get(token_hash) if cache is not None else None
    if holder is None:
        holder = lookup(engine, token_hash)
        if holder is not None and cache is not None:
            cache.put(token_hash, holder)
    return verdict(holder, staff_days=staff_days, feed_days=feed_days, now=now)
