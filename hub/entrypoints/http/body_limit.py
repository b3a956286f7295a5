"""Request bodies are bounded while they are read, before any route, token check or parse sees them.

A declared ``Content-Length`` over the limit is answered 413 at once, without reading a byte of the body; a body
that grows past the limit as it arrives (chunked, or lying about its length) stops being read there and is
answered 413; a body that does not arrive within its deadline is answered 408. Either way, and whenever a route
answers before the body it was sent has been read (a 401, a 404), the connection is closed, so the rest of a
huge upload is never read.
"""

from __future__ import annotations

import asyncio
import json
import time

from fastapi import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

#: path prefixes of the feeds' doors, whose bodies (FHIR Bundles, SCRIPT messages) may be larger
_DOOR_PREFIXES = ("/fhir", "/script")


class BodyTooLarge(HTTPException):
    """The body passed the route's limit while it was being read."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"request body larger than {limit} bytes", headers={"Connection": "close"})


class BodyTooSlow(HTTPException):
    """The body did not arrive in full within its deadline."""

    def __init__(self, timeout_s: float) -> None:
        super().__init__(408, f"request body not received within {timeout_s:g} s", headers={"Connection": "close"})


class BodyLimit:
    """ASGI middleware: the outermost layer, so that nothing reads a body it has not bounded."""

    def __init__(self, app: ASGIApp, *, api_bytes: int, door_bytes: int, timeout_s: float) -> None:
        self.app, self.api_bytes, self.door_bytes, self.timeout_s = app, api_bytes, door_bytes, timeout_s

    def limit_for(self, path: str) -> int:
        """The largest body the route at ``path`` may receive."""
        return self.door_bytes if path.startswith(_DOOR_PREFIXES) else self.api_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope["path"])
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            await _refuse(scope, send, BodyTooLarge(limit))
            return
        reading = _Reading(limit, self.timeout_s, receive, sent=bool(declared) or _chunked(scope))
        await self.app(scope, reading.receive, reading.send_with(send))


def _content_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            return int(value) if value.isdigit() else None
    return None


def _chunked(scope: Scope) -> bool:
    return any(name == b"transfer-encoding" for name, _ in scope["headers"])


class _Reading:
    """One request's body as it is read: counted against the limit and the deadline."""

    def __init__(self, limit: int, timeout_s: float, receive: Receive, *, sent: bool) -> None:
        self._limit, self._timeout, self._receive = limit, timeout_s, receive
        self._deadline = time.monotonic() + timeout_s
        self._received = 0
        self.unread = sent  # a body was announced and not all of it has been read

    async def receive(self) -> Message:
        """The next body part, or an error once the body is too large or too late."""
        if not self.unread:
            return await self._receive()
        try:
            async with asyncio.timeout(max(0.0, self._deadline - time.monotonic())):
                message = await self._receive()
        except TimeoutError:
            raise BodyTooSlow(self._timeout) from None
        if message["type"] == "http.request":
            self._received += len(message.get("body", b""))
            if self._received > self._limit:
                raise BodyTooLarge(self._limit)
            self.unread = message.get("more_body", False)
        return message

    def send_with(self, send: Send) -> Send:
        """``send`` that closes the connection after an answer given while the body is still unread."""

        async def closing(message: Message) -> None:
            if message["type"] == "http.response.start" and (self.unread or message["status"] in (408, 413)):
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"connection"]
                message = {**message, "headers": [*headers, (b"connection", b"close")]}
            await send(message)

        return closing


async def _refuse(scope: Scope, send: Send, error: HTTPException) -> None:
    """The refusal in the door's own form: an OperationOutcome on the FHIR door, JSON ``detail`` elsewhere."""
    if scope["path"].startswith("/fhir"):
        media = b"application/fhir+json"
        body = {
            "resourceType": "OperationOutcome",
            "issue": [{"severity": "error", "code": "too-costly", "diagnostics": error.detail}],
        }
    else:
        media, body = b"application/json", {"detail": error.detail}
    payload = json.dumps(body).encode()
    await send(
        {
            "type": "http.response.start",
            "status": error.status_code,
            "headers": [
                (b"content-type", media),
                (b"content-length", str(len(payload)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})
