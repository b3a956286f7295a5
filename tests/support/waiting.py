"""Waiting on states, not on the clock: poll until a read finds something (tests never sleep a fixed time)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def eventually(read: Callable[[], T | None], what: str, timeout_s: float = 30) -> T:
    """Poll ``read`` until it returns something other than None; the deadline only bounds a hub that never
    gets there (generous: CI runs on a loaded two-core machine)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        found = read()
        if found is not None:
            return found
        time.sleep(0.05)
    raise AssertionError(f"never: {what} (within {timeout_s:.0f} s)")
