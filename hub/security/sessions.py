"""Staff sessions end on the server after a time without activity, not only in the browser.

The console signs its user out after ``RXHUB_CONSOLE_IDLE_MINUTES`` without a key press or click; a console
left open (or its token copied out of it) must not keep working past that on the server either. The doors
keep, per staff token, when it was last active: a request counts as activity unless it says it is
background work (``X-RxHub-Activity: background``: the console's polls, which carry it on every call and
report the user's activity with ``POST /api/session`` instead). A token idle longer than the limit is
refused (401) until it signs in again with ``POST /api/session``. The clock lives in the process serving
HTTP: a restart starts every session afresh. Feeds and connectors are not sessions and are not timed out.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable

#: the header a request carries when it is not the user's own activity
ACTIVITY_HEADER = "X-RxHub-Activity"
BACKGROUND = "background"
#: sessions remembered at most; the least recently active are forgotten (their next request starts afresh)
MAX_SESSIONS = 50_000


class IdleSessions:
    """Token hash -> last activity; thread-safe and bounded."""

    def __init__(self, idle_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.idle_s, self._clock = idle_s, clock
        self._last: OrderedDict[str, float] = OrderedDict()
        self._lock = threading.Lock()

    def admit(self, token_hash: str, *, background: bool) -> bool:
        """False when the session has been idle past the limit (it stays ended until ``restart``); else
        True, noting the activity unless ``background``. A token first seen starts its session."""
        now = self._clock()
        with self._lock:
            last = self._last.get(token_hash)
            if last is not None and now - last > self.idle_s:
                return False
            if last is None or not background:
                self._last[token_hash] = now
                self._last.move_to_end(token_hash)
                while len(self._last) > MAX_SESSIONS:
                    self._last.popitem(last=False)
            return True

    def restart(self, token_hash: str) -> None:
        """The user signed in (again) or is active in the console: the session runs from now."""
        with self._lock:
            self._last[token_hash] = self._clock()
            self._last.move_to_end(token_hash)
