"""Feeds and their bindings: made by ``rxhub feeds``, read by the doors (cached for a few seconds)."""

from __future__ import annotations

import asyncio
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Connection, Engine, delete, insert, select, update
from sqlalchemy.exc import IntegrityError, OperationalError

from hub.errors import DatabaseUnavailable, RxHubError
from hub.persistence.database import read_connection
from hub.persistence.tables import feed_bindings, feeds
from hub.security.principals import BINDING_KINDS, FeedBindings

#: how long a door trusts the bindings it read (a new binding or a removed feed takes effect this much later)
BINDINGS_CACHE_S = 5.0


class FeedError(RxHubError):
    """A feed or binding that cannot be made as asked (a name or value already taken)."""


@dataclass(frozen=True)
class Feed:
    """A feed with its bindings, for ``rxhub feeds list``."""

    name: str
    active: bool
    bindings: tuple[tuple[str, str], ...]


class FeedStore:
    """Create, bind, list and disable feeds."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def add(self, name: str, bindings: list[tuple[str, str]]) -> None:
        """A new feed with its bindings; refused whole when the name or any binding is taken."""
        now = datetime.now(UTC)
        try:
            with self._engine.begin() as conn:
                conn.execute(insert(feeds).values(name=name, created_at=now))
                self._bind(conn, name, bindings, now)
        except IntegrityError as exc:
            raise FeedError(f"feed {name} or one of its bindings exists already") from exc

    def bind(self, name: str, bindings: list[tuple[str, str]]) -> None:
        """More bindings for an active feed."""
        try:
            with self._engine.begin() as conn:
                found = conn.execute(
                    select(feeds.c.name).where(feeds.c.name == name, feeds.c.disabled_at.is_(None))
                ).first()
                if found is None:
                    raise FeedError(f"no active feed {name}")
                self._bind(conn, name, bindings, datetime.now(UTC))
        except IntegrityError as exc:
            raise FeedError("one of these bindings belongs to a feed already") from exc

    def unbind(self, name: str, kind: str, value: str) -> bool:
        """Drop one binding; whether it existed."""
        with self._engine.begin() as conn:
            gone = conn.execute(
                delete(feed_bindings).where(
                    feed_bindings.c.feed == name, feed_bindings.c.kind == kind, feed_bindings.c.value == value
                )
            )
        return gone.rowcount > 0

    def disable(self, name: str) -> bool:
        """Stop a feed: its bindings go (another feed may take them), the feed row stays for the audit."""
        with self._engine.begin() as conn:
            done = conn.execute(
                update(feeds)
                .where(feeds.c.name == name, feeds.c.disabled_at.is_(None))
                .values(disabled_at=datetime.now(UTC))
            )
            conn.execute(delete(feed_bindings).where(feed_bindings.c.feed == name))
        return done.rowcount > 0

    def all(self) -> list[Feed]:
        """Every feed with its bindings."""
        with read_connection(self._engine) as conn:
            rows = conn.execute(select(feeds).order_by(feeds.c.name)).mappings().all()
            bound = conn.execute(select(feed_bindings).order_by(feed_bindings.c.kind, feed_bindings.c.value)).all()
        return [
            Feed(r["name"], r["disabled_at"] is None, tuple((b.kind, b.value) for b in bound if b.feed == r["name"]))
            for r in rows
        ]

    @staticmethod
    def _bind(conn: Connection, name: str, bindings: list[tuple[str, str]], now: datetime) -> None:
        for kind, _ in bindings:
            if kind not in BINDING_KINDS:
                raise FeedError(f"binding kind must be one of {', '.join(BINDING_KINDS)}")
        if bindings:
            conn.execute(
                insert(feed_bindings),
                [dict(kind=kind, value=value, feed=name, created_at=now) for kind, value in bindings],
            )


def load_bindings(engine: Engine) -> FeedBindings:
    """The bindings of every active feed."""
    query = (
        select(feed_bindings.c.kind, feed_bindings.c.value, feed_bindings.c.feed)
        .join(feeds, feeds.c.name == feed_bindings.c.feed)
        .where(feeds.c.disabled_at.is_(None))
    )
    try:
        with read_connection(engine) as conn:
            rows = conn.execute(query).all()
    except OperationalError as exc:
        raise DatabaseUnavailable(f"cannot read the feeds: {type(exc.orig).__name__}") from exc
    return FeedBindings({(r.kind, r.value): r.feed for r in rows})


class FeedDirectory:
    """The doors' view of the bindings: read at most every ``ttl_s`` seconds, one reader at a time."""

    def __init__(self, engine: Engine, ttl_s: float = BINDINGS_CACHE_S) -> None:
        self._engine, self._ttl = engine, ttl_s
        self._bindings: FeedBindings | None = None
        self._read_at = 0.0
        self._lock = threading.Lock()

    def current(self) -> FeedBindings:
        """The bindings, read again when older than the TTL (blocking: call from a thread)."""
        with self._lock:
            if self._bindings is None or time.monotonic() - self._read_at >= self._ttl:
                self._bindings, self._read_at = load_bindings(self._engine), time.monotonic()
            return self._bindings

    async def bindings(self) -> FeedBindings:
        """``current`` for the event loop: no thread hop while the cached copy is fresh."""
        fresh = self._bindings
        if fresh is not None and time.monotonic() - self._read_at < self._ttl:
            return fresh
        return await asyncio.to_thread(self.current)

    def forget(self) -> None:
        """Read afresh next time (a binding changed in this process)."""
        with self._lock:
            self._bindings = None
