"""Throttling per key: failed authentications per client address and per token prefix (too many in a window →
locked out for a while), and the records a sender's refused messages may take (a budget per minute)."""

from __future__ import annotations

import hashlib
import threading
import time
from collections import deque
from collections.abc import Callable


class FailureLimiter:
    """Counts failures per key in a sliding window; at the limit the key is locked out (HTTP 429)."""

    def __init__(
        self,
        limit: int,
        window_s: float,
        lockout_s: float,
        clock: Callable[[], float] = time.monotonic,
        max_keys: int = 100_000,
    ) -> None:
        self._limit, self._window, self._lockout, self._clock = limit, window_s, lockout_s, clock
        self._max_keys = max_keys
        self._failures: dict[str, deque[float]] = {}
        self._locked_until: dict[str, float] = {}
        self._lock = threading.Lock()

    def retry_after(self, key: str) -> float | None:
        """Seconds the key stays locked out, or None when it may try."""
        with self._lock:
            until = self._locked_until.get(key)
            if until is None:
                return None
            left = until - self._clock()
            if left <= 0:
                del self._locked_until[key]
                return None
            return left

    def failed(self, key: str) -> bool:
        """Count one failure; True when this failure started a lockout."""
        now = self._clock()
        with self._lock:
            # an address sweep must not exhaust memory
            if max(len(self._failures), len(self._locked_until)) >= self._max_keys:
                self._prune(now)
            times = self._failures.setdefault(key, deque())
            times.append(now)
            while times and times[0] <= now - self._window:
                times.popleft()
            if len(times) < self._limit:
                return False
            del self._failures[key]
            self._locked_until[key] = now + self._lockout
            return True

    def _prune(self, now: float) -> None:
        for key in [k for k, t in self._failures.items() if not t or t[-1] <= now - self._window]:
            del self._failures[key]
        # a locked-out address that never came back was only forgotten on its next try
        for key in [k for k, until in self._locked_until.items() if until <= now]:
            del self._locked_until[key]
        if len(self._failures) >= self._max_keys:
            self._failures.clear()


#: characters of a presented token that name its prefix (``rxh_`` and 8 of the secret: 48 bits, never logged)
PREFIX_CHARS = 12


class AuthThrottle:
    """Failed authentications counted per client address and per token prefix; only failures are ever refused.

    A lockout answers 429 to the next failures from that address (a shared NAT, a proxy) or with that prefix (one
    bad token replayed from many addresses) without auditing each, but a valid token is still admitted: nobody
    is locked out by somebody else's failures. Tokens hold 256 random bits, so admitting a valid one during a
    lockout tells a guesser nothing it could use.
    """

    def __init__(self, per_address: FailureLimiter, per_prefix: FailureLimiter) -> None:
        self._address, self._prefix = per_address, per_prefix

    @staticmethod
    def prefix_key(token: str | None) -> str | None:
        """The throttling key of a presented token's prefix (a digest: the characters are not kept), or None."""
        if not token:
            return None
        return hashlib.sha256(token[:PREFIX_CHARS].encode()).hexdigest()[:16]

    def retry_after(self, address: str, prefix: str | None) -> float | None:
        """Seconds a failure from ``address`` or with ``prefix`` is answered 429, or None when it may be counted."""
        waits = [
            w
            for w in (self._address.retry_after(address), self._prefix.retry_after(prefix) if prefix else None)
            if w is not None
        ]
        return max(waits) if waits else None

    def failed(self, address: str, prefix: str | None) -> bool:
        """Count one failure against both keys; True when it started a lockout of either."""
        locked = self._address.failed(address)
        return (self._prefix.failed(prefix) if prefix else False) or locked


class SenderBudget:
    """A token bucket per key: ``per_minute`` a minute, in bursts of as many; what goes over is counted.

    Bounds what a flood of refused messages from one sender writes (``hub.persistence.refused_messages``):
    the messages are still answered, only their records are skipped, and the next record says how many.
    """

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic, max_keys: int = 10_000) -> None:
        self._capacity, self._rate = float(per_minute), per_minute / 60.0
        self._clock, self._max_keys = clock, max_keys
        #: key -> (tokens left, when last filled, refused since the last one taken)
        self._buckets: dict[str, tuple[float, float, int]] = {}
        self._lock = threading.Lock()

    def take(self, key: str) -> tuple[bool, int]:
        """(whether the key may record one more, how many it was refused since its last record)."""
        now = self._clock()
        with self._lock:
            tokens, at, skipped = self._buckets.get(key, (self._capacity, now, 0))
            tokens = min(self._capacity, tokens + (now - at) * self._rate)
            if tokens < 1:
                self._buckets[key] = (tokens, now, skipped + 1)
                return False, skipped + 1
            if len(self._buckets) >= self._max_keys and key not in self._buckets:
                self._prune(now)
            self._buckets[key] = (tokens - 1, now, 0)
            return True, skipped

    def _prune(self, now: float) -> None:
        """Forget keys whose bucket has filled up again (they owe nothing); all of them when none has."""
        full = [
            k
            for k, (tokens, at, skipped) in self._buckets.items()
            if not skipped and tokens + (now - at) * self._rate >= self._capacity
        ]
        for key in full or list(self._buckets):
            del self._buckets[key]
