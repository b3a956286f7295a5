"""Keep a broker job going through outages: retry after a failure, waiting longer each time, until stopped.

Consumers, deliveries and the connectors each hold a connection for as long as they run. When the broker
goes away (a restart, a failover, a node taken out) their work raises, and they come back on their own: the
wait doubles from ``INITIAL_S`` up to ``CEILING_S``, so a long outage costs a retry every few seconds, not a
busy loop, and a short one is over in a fraction of a second. Waits are on the ``stop`` event, so shutting
down never waits out a pause.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

#: first wait after a failure
INITIAL_S = 0.2
#: longest wait between two attempts
CEILING_S = 5.0

Errors = tuple[type[BaseException], ...]


class Backoff:
    """The pauses between attempts: doubling from ``INITIAL_S`` to ``CEILING_S``, back to the start on success."""

    def __init__(self) -> None:
        self._next = INITIAL_S

    def wait(self, stop: threading.Event) -> None:
        """Pause (cut short by ``stop``), and lengthen the next pause."""
        stop.wait(self._next)
        self._next = min(self._next * 2, CEILING_S)

    def reset(self) -> None:
        """The attempt worked: the next failure starts with a short pause again."""
        self._next = INITIAL_S


def keep_running(
    run: Callable[[threading.Event], None],
    stop: threading.Event,
    *,
    errors: Errors,
    lost: Callable[[BaseException], None],
) -> None:
    """Call ``run(stop)`` again whenever it returns or raises one of ``errors``, until ``stop`` is set.

    ``lost`` reports each failure (and undoes what the run had announced, such as being ready); other
    errors are not the broker's and end the loop.
    """
    backoff = Backoff()
    while not stop.is_set():
        try:
            run(stop)
            backoff.reset()
        except errors as exc:
            lost(exc)
            backoff.wait(stop)


def until_done(
    attempt: Callable[[], None],
    stop: threading.Event,
    *,
    errors: Errors,
    failed: Callable[[BaseException], None],
) -> bool:
    """Call ``attempt`` until it returns without raising one of ``errors``; False if ``stop`` came first."""
    backoff = Backoff()
    while not stop.is_set():
        try:
            attempt()
            return True
        except errors as exc:
            failed(exc)
            backoff.wait(stop)
    return False
