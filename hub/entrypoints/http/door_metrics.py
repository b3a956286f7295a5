"""Counts and times every message the HTTP doors answer (FHIR, SCRIPT, the staff API), as the MLLP door does.

One ASGI middleware rather than a line in each route: every answer is counted, the framework's own (a 401
from the auth dependency, a 422, a 500) included.  The outcome comes from the HTTP status, unless the door
said better in ``request.state.door_outcome`` (a SCRIPT Error 900 travels in a 200; a FHIR create answered
200 is a resend).
"""

from __future__ import annotations

import time
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hub.observability.metrics import ACK_SECONDS, count_message

#: path prefix -> door (``metrics.DOORS``); reads (GET) are not messages and are not counted
_DOORS = (("/fhir", "fhir"), ("/script", "script"), ("/api/", "api"))
_WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
#: who the sender is was not accepted: no message was read
_REFUSED = frozenset({401, 403, 429})

#: the state key a door sets when the status alone would mislead
OUTCOME_KEY = "door_outcome"


def door_of(method: str, path: str) -> str | None:
    """The door a request came in by, or None when it carries no message."""
    if method not in _WRITES:
        return None
    return next((door for prefix, door in _DOORS if path.startswith(prefix)), None)


def outcome_of(status: int) -> str:
    """What an HTTP status says happened to the message (``metrics.OUTCOMES``)."""
    if status < 400:
        return "accepted"
    if status in _REFUSED:
        return "refused"
    if status == 503:
        return "not_stored"
    return "errors" if status >= 500 else "rejected"


class DoorMetrics:
    """Observes ``rxhub_ack_seconds`` and counts ``rxhub_messages_total`` for the HTTP doors."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        door = door_of(scope.get("method", ""), scope.get("path", "")) if scope["type"] == "http" else None
        if door is None:
            await self.app(scope, receive, send)
            return
        state: dict[str, Any] = scope.setdefault("state", {})
        started = time.perf_counter()
        status = 500

        async def record_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, record_status)
        finally:
            ACK_SECONDS.labels(door).observe(time.perf_counter() - started)
            count_message(door, str(state.get(OUTCOME_KEY) or outcome_of(status)))
