"""The scripted pharmacist: polls the two verification queues through the staff API and approves at once.

One poller reads ``GET /api/queues/data-verification`` and ``/product-verification`` (oldest first, as a
person works them) and hands each item it has not approved yet to a few approver threads, each with its
own keep-alive connection, that ``POST .../{stage}-verification {"approve": true}`` (high-severity alerts
overridden, as a pharmacist would after review).  Several approvers stand for a pharmacy's several
pharmacists: one client doing two round trips per order in series would measure the client, not the hub.
Each approval carries an Idempotency-Key, so a resent approval is harmless.
"""

from __future__ import annotations

import http.client
import json
import queue
import threading
from dataclasses import dataclass, field
from typing import Any

STAGES = ("data", "product")
#: between two looks at the queues: a console refreshes every few seconds; polling flat out made the
#: pharmacist the busiest client of the hub's CPU (each poll renders the queue)
_POLL_S = 0.1


@dataclass
class PharmacistLog:
    """What the pharmacist did: approvals sent, queue polls, refusals (a 409 is a race, not a failure)."""

    approved: int = 0
    polls: int = 0
    conflicts: int = 0
    failures: list[str] = field(default_factory=list)


class StaffApi:
    """One keep-alive connection speaking JSON with a bearer token."""

    def __init__(self, port: int, token: str) -> None:
        self._connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self._headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

    def call(self, method: str, path: str, body: Any = None, key: str | None = None) -> tuple[int, Any]:
        """One request; (status, decoded JSON body or None)."""
        headers = {**self._headers, **({"Idempotency-Key": key} if key else {})}
        payload = json.dumps(body).encode() if body is not None else None
        try:
            self._connection.request(method, path, payload, headers)
            response = self._connection.getresponse()
            data = response.read()
        except (OSError, http.client.HTTPException):
            self._connection.close()  # reconnect on the next call
            raise
        return response.status, json.loads(data) if data else None

    def close(self) -> None:
        """Close the connection."""
        self._connection.close()


class ScriptedPharmacist:
    """Start, let it work while orders flow, stop; ``log`` says what it did."""

    def __init__(self, port: int, token: str, approvers: int = 4) -> None:
        self._port, self._token = port, token
        self._work: queue.Queue[tuple[str, str, list[list[str]]] | None] = queue.Queue()
        self._stop = threading.Event()
        self._approvers = approvers
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()
        self.log = PharmacistLog()

    def start(self) -> None:
        """One poller and the approvers, on daemon threads."""
        self._threads = [threading.Thread(target=self._poll, name="pharmacist-poll", daemon=True)]
        self._threads += [
            threading.Thread(target=self._approve, name=f"pharmacist-{i}", daemon=True) for i in range(self._approvers)
        ]
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        """Finish the approvals in hand, then stop."""
        self._stop.set()
        for _ in range(self._approvers):
            self._work.put(None)
        for thread in self._threads:
            thread.join(30)

    def _poll(self) -> None:
        api = StaffApi(self._port, self._token)
        handed: set[tuple[str, str]] = set()
        try:
            while not self._stop.is_set():
                for stage in STAGES:
                    status, items = api.call("GET", f"/api/queues/{stage}-verification")
                    self.log.polls += 1
                    if status != 200:
                        self._fail(f"GET {stage}-verification queue answered {status}")
                        continue
                    for item in items:
                        key = (item["prescription_id"], stage)
                        if key not in handed:
                            handed.add(key)
                            self._work.put((key[0], stage, _overrides(item)))
                self._stop.wait(_POLL_S)
        except (OSError, http.client.HTTPException) as exc:
            self._fail(f"queue poll failed: {type(exc).__name__}: {exc}")
        finally:
            api.close()

    def _approve(self) -> None:
        api = StaffApi(self._port, self._token)
        try:
            while (job := self._work.get()) is not None:
                prescription_id, stage, overrides = job
                body = {"approve": True, "overrides": overrides} if overrides else {"approve": True}
                try:
                    status, answer = api.call(
                        "POST",
                        f"/api/prescriptions/{prescription_id}/{stage}-verification",
                        body,
                        key=f"bench-{prescription_id}-{stage}",
                    )
                except (OSError, http.client.HTTPException) as exc:
                    self._fail(f"{stage} approval of {prescription_id}: {type(exc).__name__}: {exc}")
                    continue
                with self._lock:
                    if status == 202:
                        self.log.approved += 1
                    elif status == 409:
                        self.log.conflicts += 1
                    else:
                        self.log.failures.append(f"{stage} approval of {prescription_id}: {status} {answer}")
        finally:
            api.close()

    def _fail(self, text: str) -> None:
        with self._lock:
            self.log.failures.append(text)


def _overrides(item: dict[str, Any]) -> list[list[str]]:
    """Every high-severity alert not yet overridden (they block data verification)."""
    alerts = item.get("detail", {}).get("alerts", [])
    return [
        [a["alert_id"], "reviewed (benchmark pharmacist)"]
        for a in alerts
        if a.get("severity") == "high" and a.get("override") is None
    ]
