"""Which repeated refusals to audit: the first of each key, then one a period with how many were left out.

A client hammering a locked-out door (429s) must be in the audit trail, but one entry per request would let
it fill the table; one entry per key and period, counting the rest, keeps the record and bounds the writes.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable

#: keys remembered at most; past it the least recently audited are forgotten (their next refusal is audited)
MAX_KEYS = 10_000


class RefusalSampler:
    """Thread-safe: ``take(key)`` says whether to audit this refusal and how many of the key's were skipped."""

    def __init__(self, period_s: float = 60.0, clock: Callable[[], float] = time.monotonic) -> None:
        self._period_s, self._clock = period_s, clock
        self._seen: OrderedDict[Hashable, tuple[float, int]] = OrderedDict()
        self._lock = threading.Lock()

    def take(self, key: Hashable) -> int | None:
        """None: skip (counted); else audit it, the number skipped since the key's last audited refusal."""
        now = self._clock()
        with self._lock:
            last = self._seen.get(key)
            if last is not None and now - last[0] < self._period_s:
                self._seen[key] = (last[0], last[1] + 1)
                return None
            self._seen[key] = (now, 0)
            self._seen.move_to_end(key)
            while len(self._seen) > MAX_KEYS:
                self._seen.popitem(last=False)
            return last[1] if last is not None else 0
