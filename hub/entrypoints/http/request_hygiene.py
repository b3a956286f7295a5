"""Parameters no route can use are refused with 400 before any route sees them: a NUL character (PostgreSQL
cannot hold one, and answered 500), a percent-encoding that is not UTF-8, a control character in the path.

Checked once for every route, in the path and in the query string alike, so a route added later is covered too.
"""

from __future__ import annotations

import json
import re
from urllib.parse import parse_qsl, unquote_to_bytes

from starlette.types import ASGIApp, Receive, Scope, Send


def malformed(scope: Scope) -> str | None:
    """What is wrong with the request's path or query parameters, or None."""
    raw_path = scope.get("raw_path") or scope["path"].encode()
    problem = _bad_text(unquote_to_bytes(raw_path), "the path")
    if problem:
        return problem
    query: bytes = scope.get("query_string", b"")
    if not query:
        return None
    try:
        pairs = parse_qsl(query.decode("latin-1"), keep_blank_values=True, encoding="utf-8", errors="strict")
    except (UnicodeDecodeError, ValueError):
        return "a query parameter is not valid UTF-8"
    for name, value in pairs:
        if "\x00" in name or "\x00" in value:
            return f"query parameter {name.replace(chr(0), '')[:40]!r} holds a NUL character"
    return None


#: C0 control characters and DEL, NUL among them
_CONTROL = re.compile(rb"[\x00-\x1f\x7f]")


def _bad_text(raw: bytes, where: str) -> str | None:
    if not raw.isascii():
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError:
            return f"{where} is not valid UTF-8"
    if _CONTROL.search(raw):
        return f"{where} holds a control character"
    return None


class RequestHygiene:
    """ASGI middleware: 400 (an OperationOutcome on /fhir) for a malformed path or query parameter."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        problem = malformed(scope) if scope["type"] == "http" else None
        if problem is None:
            await self.app(scope, receive, send)
            return
        if scope["path"].startswith("/fhir"):
            media = b"application/fhir+json"
            body: dict[str, object] = {
                "resourceType": "OperationOutcome",
                "issue": [{"severity": "error", "code": "invalid", "diagnostics": problem}],
            }
        else:
            media, body = b"application/json", {"detail": problem}
        payload = json.dumps(body).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 400,
                "headers": [(b"content-type", media), (b"content-length", str(len(payload)).encode())],
            }
        )
        await send({"type": "http.response.body", "body": payload})
