"""Failed connections to broker nodes: counted per node, logged at most once per node per interval.

While a node is down every connection of every process retries it; one line each time made a dozen ERROR
lines a second per process.  Here each node gets one WARNING line per interval, saying how many attempts
failed since, and ``rxhub_broker_connection_failures_total{node}`` counts them all.
"""

from __future__ import annotations

import logging
import threading
import time

from hub.errors import BrokerNodesUnreachable
from hub.observability.metrics import BROKER_CONNECTION_FAILURES

log = logging.getLogger(__name__)

#: at most one line per node this often
LOG_INTERVAL_S = 30.0


class NodeFailures:
    """Per-process record of which nodes failed, and when each was last reported."""

    def __init__(self, interval_s: float = LOG_INTERVAL_S) -> None:
        self.interval_s = interval_s
        self._lock = threading.Lock()
        #: node -> (monotonic time of its last line, failures since that line)
        self._seen: dict[str, tuple[float, int]] = {}

    def failed(self, node: str, error: BaseException) -> None:
        """Count a failed attempt on ``node``; log it unless the node was reported within the interval."""
        BROKER_CONNECTION_FAILURES.labels(node).inc()
        now = time.monotonic()
        with self._lock:
            logged_at, since = self._seen.get(node, (float("-inf"), 0))
            if now - logged_at < self.interval_s:
                self._seen[node] = (logged_at, since + 1)
                return
            self._seen[node] = (now, 0)
        log.warning(
            "broker node %s cannot be reached: %s (%d more failed attempts since the last report)",
            node,
            _reason(error),
            since,
            extra={"event": "amqp.node.unreachable", "node": node},
        )

    def connected(self, node: str) -> None:
        """The node took a connection: report that once if it had been failing."""
        with self._lock:
            was_failing = self._seen.pop(node, None) is not None
        if was_failing:
            log.info("broker node %s reachable again", node, extra={"event": "amqp.node.reachable", "node": node})


def _reason(error: BaseException) -> str:
    """The failure in a few words: the innermost of pika's nested errors (none of them holds the URL)."""
    inner = error
    for _ in range(4):
        causes: tuple[object, ...] = tuple(getattr(inner, "args", ()))
        nested = causes[0] if causes else getattr(inner, "exception", None)  # pika's connector errors
        if not isinstance(nested, BaseException):
            break
        inner = nested
    return " ".join(f"{type(inner).__name__}: {inner}".split())[:200]


#: the process's one record: every connection of the process reports here
FAILURES = NodeFailures()


def reconnect_level(error: BaseException) -> int:
    """How loudly a reconnect loop reports ``error``: a lost connection is news; no node taking a new one was
    reported per node already (rate-limited), so the loop's own line about it is DEBUG."""
    return logging.DEBUG if isinstance(error, BrokerNodesUnreachable) else logging.WARNING
