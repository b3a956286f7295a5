"""The worker processes of ``rxhub run``, watched: one that dies is started again, and none outlives the hub.

Without a watcher a killed worker left every step queue without a consumer while the doors went on answering
AA; without a tie to the parent, workers of a killed hub went on consuming for nobody. On Linux each child
asks the kernel for SIGTERM when its parent dies (``PR_SET_PDEATHSIG``), and checks the parent is still the
one that forked it, since it may have died before the request.
"""

from __future__ import annotations

import ctypes
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from hub.observability.metrics import WORKER_RESTARTS

log = logging.getLogger(__name__)

_PR_SET_PDEATHSIG = 1


def _prctl() -> Callable[..., int] | None:
    """libc's prctl, looked up in the parent: a child between fork and exec must not load libraries."""
    if not sys.platform.startswith("linux"):
        return None
    return ctypes.CDLL(None, use_errno=True).prctl


@dataclass
class Supervisor:
    """``count`` copies of ``command``; a copy that exits unasked is restarted after a growing delay."""

    command: list[str]
    env: dict[str, str]
    count: int
    nice: int = 0
    first_delay_s: float = 1.0
    max_delay_s: float = 30.0
    #: a copy that ran this long before it died is restarted after the first delay again
    stable_s: float = 60.0
    children: list[subprocess.Popen[bytes]] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None
    _prctl: Callable[..., int] | None = None

    def start(self) -> None:
        """Start every copy, then watch them from a thread of this process."""
        self._prctl = _prctl()
        self.children = [self._spawn() for _ in range(self.count)]
        self._thread = threading.Thread(target=self._watch, name="worker-supervisor", daemon=True)
        self._thread.start()

    def pids(self) -> list[int]:
        """The current copies' process ids."""
        return [child.pid for child in self.children]

    def stop(self, timeout_s: float = 20.0) -> None:
        """Stop watching, SIGTERM every copy, SIGKILL those still there after ``timeout_s``."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        for child in self.children:
            child.terminate()
        for child in self.children:
            try:
                child.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()

    def _spawn(self) -> subprocess.Popen[bytes]:
        parent, nice, prctl = os.getpid(), self.nice, self._prctl

        def in_child() -> None:
            if nice:
                os.nice(nice)
            if prctl is not None:
                prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
            if os.getppid() != parent:  # the parent died before the request: no signal will come
                os._exit(1)

        return subprocess.Popen(self.command, env=self.env, preexec_fn=in_child)

    def _watch(self) -> None:
        started = [time.monotonic()] * self.count
        delays = [self.first_delay_s] * self.count
        due: list[float | None] = [None] * self.count
        while not self._stop.wait(0.25):
            now = time.monotonic()
            for i, child in enumerate(self.children):
                if due[i] is None and child.poll() is not None:
                    ran = now - started[i]
                    delays[i] = self.first_delay_s if ran >= self.stable_s else delays[i]
                    due[i] = now + delays[i]
                    log.error(
                        "worker process %d exited with %s after %.0f s; starting another in %.0f s",
                        child.pid,
                        child.returncode,
                        ran,
                        delays[i],
                    )
                    delays[i] = min(delays[i] * 2, self.max_delay_s)
                elif due[i] is not None and now >= due[i]:  # type: ignore[operator]
                    self.children[i], started[i], due[i] = self._spawn(), now, None
                    WORKER_RESTARTS.inc()
                    log.warning("worker process %d started in place of %d", self.children[i].pid, child.pid)
