"""Request bodies of the FHIR door: no larger than the limit, their Content-Encoding undone, JSON of FHIR R4
for a resource, a form for POST [type]/_search."""

from __future__ import annotations

from urllib.parse import parse_qsl

from fastapi import HTTPException, Request

from adapters.fhir.content_coding import decoded
from adapters.fhir.json_body import ACCEPTED_MEDIA_TYPES, FHIR_JSON, MAX_BODY_BYTES, media_type
from adapters.fhir.negotiation import unsupported_content

#: the form a POST _search sends its parameters in
FORM = "application/x-www-form-urlencoded"


async def read_body(request: Request, limit: int = MAX_BODY_BYTES) -> bytes:
    """The request body, refused early when its media type is not JSON (R4) or larger than ``limit`` bytes (the
    hub's ``RXHUB_HTTP_FHIR_MAX_BODY_BYTES``, which the hub's own layer enforces first, before the token is
    checked)."""
    declared = media_type(request.headers.get("content-type"))
    if declared is not None and declared not in ACCEPTED_MEDIA_TYPES:
        raise HTTPException(415, f"Content-Type {declared} is not supported: send {FHIR_JSON}")
    version = unsupported_content(request.headers.get("content-type"))
    if version is not None:
        raise HTTPException(415, version)
    received = request.state.fhir_body = await _raw_body(request, limit)  # for the record of a refusal
    return received


async def _raw_body(request: Request, limit: int) -> bytes:
    """The body as sent, no larger than the limit, its Content-Encoding undone (still no larger)."""
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > limit:
        raise HTTPException(413, f"body larger than {limit} bytes")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise HTTPException(413, f"body larger than {limit} bytes")
    return decoded(bytes(body), request.headers.get("content-encoding"), limit)


async def search_parameters(request: Request, limit: int = MAX_BODY_BYTES) -> list[tuple[str, str]]:
    """A search's parameters: the query's, and for POST _search the form body's too (R4 search.html §3.1.1)."""
    items = list(request.query_params.multi_items())
    if request.method != "POST":
        return items
    declared = media_type(request.headers.get("content-type"))
    if declared not in (None, FORM):
        raise HTTPException(415, f"Content-Type {declared} is not supported for _search: send {FORM}")
    try:
        return items + parse_qsl(
            (await _raw_body(request, limit)).decode(), keep_blank_values=True, strict_parsing=False
        )
    except UnicodeDecodeError:
        raise HTTPException(400, "the _search form is not UTF-8") from None
