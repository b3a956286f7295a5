"""How many connections a door holds at once, in all and per client address, so that slow or idle sockets from
one place (or many) cannot take the file descriptors every other sender needs."""

from __future__ import annotations

import time

#: a door under a connection flood logs its refusals at most this often (seconds), with how many there were
REPORT_EVERY_S = 10.0


class ConnectionBudget:
    """Open connections counted per address against a total and a per-address cap (one event loop uses it)."""

    def __init__(self, total: int, per_address: int) -> None:
        if total < 1 or per_address < 1:
            raise ValueError("connection caps must be positive")
        self.total, self.per_address = total, per_address
        self._open: dict[str, int] = {}
        self._count = 0
        self._refused, self._reported_at = 0, float("-inf")

    @property
    def open(self) -> int:
        """Connections admitted and not yet released."""
        return self._count

    def admit(self, address: str | None, *, per_address: int | None = None) -> bool:
        """Count one more connection from ``address``; False (nothing counted) when a cap is reached.

        ``per_address``: this address's own cap instead of the common one (a trusted proxy's).
        """
        key = address or "unknown"
        held = self._open.get(key, 0)
        if self._count >= self.total or held >= (per_address or self.per_address):
            return False
        self._open[key] = held + 1
        self._count += 1
        return True

    def release(self, address: str | None) -> None:
        """One admitted connection from ``address`` closed."""
        key = address or "unknown"
        held = self._open.get(key, 0)
        if held <= 1:
            self._open.pop(key, None)
        else:
            self._open[key] = held - 1
        self._count = max(0, self._count - 1)

    def refused(self) -> int | None:
        """Count one refused connection; how many since the last report when one is due (else None)."""
        self._refused += 1
        now = time.monotonic()
        if now - self._reported_at < REPORT_EVERY_S:
            return None
        count, self._refused, self._reported_at = self._refused, 0, now
        return count
