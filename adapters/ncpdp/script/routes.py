"""The SCRIPT door over HTTP: ``POST /script`` takes one NCPDP SCRIPT message and answers in SCRIPT.

    POST /script   Content-Type: application/xml or text/xml   Authorization: Bearer <feed/admin token>
    body: <Message> NewRx | CancelRx | RxRenewalResponse (2017071, 2023011, 10.6; namespace optional)

HTTP status follows the SCRIPT answer (``door.HTTP_STATUS_FOR_ERROR``):

    200  Status 010, CancelRxResponse, or Error 900 (a protocol refusal is a normal SCRIPT answer)
    204  the body was a Status/Error/Verify: acknowledgements are never answered
    413  Error 900: body larger than the door takes          415  Error 900: not XML
    503  Error 601 + Retry-After: broker or database down, resend later
    500  Error 602: the hub failed unexpectedly
    401/403  no or wrong bearer token (FastAPI JSON, before any SCRIPT is read)
    403  Error 601: the From is bound to another feed, or is not one of the token's feed's

Every Error answer is recorded as a refused message (the message search and the audit trail).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Depends, Request, Response

from adapters.ncpdp.script.door import DoorAnswer, ScriptDoor
from adapters.ncpdp.script.safe_xml import DEFAULT_MAX_BYTES, refused
from hub.security.principals import BindingsSource, user_principal
from hub.service.ports import CommandSink, InboundLog, OrderIndex, PrescriptionQueries, RefusalLog

#: SCRIPT over HTTP is posted as XML; both registrations of the XML media type are in use
ACCEPTED_MEDIA_TYPES = ("application/xml", "text/xml")
_RETRY_AFTER_S = "5"
#: DoorAnswer.outcome -> the words every door's message counter uses (hub.observability.metrics.OUTCOMES);
#: an answered CancelRx and a received Status/Error were taken, as accepted messages are
_METRIC_OUTCOMES = {
    "accepted": "accepted",
    "duplicate": "duplicate",
    "answered": "accepted",
    "rejected": "rejected",
    "refused": "refused",
    "unavailable": "not_stored",
    "failed": "errors",
    "acknowledgement": "accepted",
}
_OPENAPI_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            media: {"schema": {"type": "string", "description": "NCPDP SCRIPT Message XML"}}
            for media in ACCEPTED_MEDIA_TYPES
        },
    }
}


def script_router(
    *,
    sink: CommandSink,
    inbound: InboundLog,
    queries: PrescriptionQueries,
    auth: Callable[..., Any],
    feeds: BindingsSource,
    orders: OrderIndex,
    refusals: RefusalLog,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> APIRouter:
    """The router the HTTP app mounts; ``auth`` is the dependency admitting SCRIPT feeds."""
    door = ScriptDoor(sink, inbound, queries, feeds=feeds, orders=orders, refusals=refusals, max_bytes=max_bytes)
    router = APIRouter(tags=["ncpdp-script"])

    @router.post(
        "/script",
        openapi_extra=_OPENAPI_BODY,
        response_class=Response,
        responses={
            200: {
                "content": {m: {} for m in ACCEPTED_MEDIA_TYPES},
                "description": "SCRIPT Status, Error or CancelRxResponse",
            }
        },
    )
    async def receive_script(request: Request, user: Any = Depends(auth)) -> Response:
        """Accept one NCPDP SCRIPT message (NewRx, CancelRx, RxRenewalResponse) and answer in SCRIPT."""
        media = _media_type(request)
        principal = user_principal(user.name, user.role)
        if media not in ACCEPTED_MEDIA_TYPES:
            refusal = refused(f"Content-Type must be {' or '.join(ACCEPTED_MEDIA_TYPES)}, not {media or 'none'}")
            return _respond(request, door.error_for(None, refusal, principal=principal), "application/xml", status=415)
        body = await _read_capped(request, max_bytes)
        if body is None:
            refusal = refused(f"message is larger than the {max_bytes} bytes accepted")
            return _respond(request, door.error_for(None, refusal, principal=principal), media, status=413)
        return _respond(request, await door.handle(body, principal), media)

    return router


def _media_type(request: Request) -> str:
    return request.headers.get("content-type", "").split(";", 1)[0].strip().lower()


async def _read_capped(request: Request, max_bytes: int) -> bytes | None:
    """The body, or None once it passes ``max_bytes`` (read no further: a huge upload costs no memory)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        return None
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > max_bytes:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def _respond(request: Request, answer: DoorAnswer, media: str, status: int | None = None) -> Response:
    # a refusal travels in a 200 too: the hub's message counter is told what happened (metrics.OUTCOMES)
    request.state.door_outcome = _METRIC_OUTCOMES.get(answer.outcome, "accepted")
    headers = {"Retry-After": _RETRY_AFTER_S} if answer.http_status == 503 else None
    return Response(content=answer.body, status_code=status or answer.http_status, media_type=media, headers=headers)
