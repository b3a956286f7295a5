"""Headers every answer of the hub carries where they apply: ``Cache-Control: no-store`` on whatever may hold
patient data (the staff API, the FHIR and SCRIPT doors), so no browser or proxy keeps a copy, and HSTS when the
hub itself serves HTTPS, so a browser never falls back to plain HTTP."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

#: path prefixes whose answers may carry patient data
PHI_PREFIXES = ("/api/", "/fhir", "/script")
#: one year, the usual HSTS lifetime
HSTS = b"max-age=31536000"


class ResponseHeaders:
    """ASGI middleware adding ``Cache-Control: no-store`` on PHI routes and HSTS over HTTPS."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra: list[tuple[bytes, bytes]] = []
        if scope["path"].startswith(PHI_PREFIXES):
            extra += [(b"cache-control", b"no-store"), (b"pragma", b"no-cache")]
        if scope.get("scheme") == "https":
            extra.append((b"strict-transport-security", HSTS))
        if not extra:
            await self.app(scope, receive, send)
            return
        replaced = {name for name, _ in extra}

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                kept = [(k, v) for k, v in message.get("headers", []) if k.lower() not in replaced]
                message = {**message, "headers": [*kept, *extra]}
            await send(message)

        await self.app(scope, receive, with_headers)
