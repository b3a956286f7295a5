"""The whole hub in one process, started in the background: the demo, the tests and the benchmark use it.

It is the same wiring as ``rxhub run`` (``hub.bootstrap``): doors on an asyncio loop (here on its own thread),
workers and the outbox relay on worker threads.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from sqlalchemy import Engine

from hub.bootstrap import build_workers, open_hub
from hub.bootstrap.doors import build_doors
from hub.config import Settings
from hub.entrypoints.doors import Doors
from hub.entrypoints.runtime import Workers


@dataclass
class RunningHub:
    """Handles to a started hub."""

    settings: Settings
    engine: Engine
    doors: Doors
    workers: Workers | None
    loop: asyncio.AbstractEventLoop
    thread: threading.Thread
    extra_threads: list[threading.Thread] = field(default_factory=list)

    @property
    def mllp_port(self) -> int:
        """The bound MLLP port."""
        assert self.doors.mllp is not None
        return self.doors.mllp.port

    @property
    def http_port(self) -> int:
        """The bound HTTP port."""
        return self.doors.http_port


@contextmanager
def running_hub(
    settings: Settings, *, steps: list[str] | None = None, with_workers: bool = True, copies: int = 1
) -> Iterator[RunningHub]:
    """Start doors and workers; stop everything on exit."""
    engine = open_hub(settings)
    workers = None
    if with_workers:
        workers = build_workers(settings, engine, steps, copies)
        workers.start()
    loop = asyncio.new_event_loop()
    doors = build_doors(settings, engine)
    thread = threading.Thread(target=loop.run_forever, name="doors-loop", daemon=True)
    thread.start()
    try:
        asyncio.run_coroutine_threadsafe(doors.start(), loop).result(30)
        yield RunningHub(settings, engine, doors, workers, loop, thread)
    finally:
        try:
            asyncio.run_coroutine_threadsafe(doors.stop(), loop).result(30)
        finally:
            loop.call_soon_threadsafe(loop.stop)
            thread.join(10)
            if workers:
                workers.close()
            engine.dispose()
