"""Compressed request bodies (RFC 9110 Content-Encoding: gzip, deflate), unpacked no larger than the limit.

The limit applies to what comes out, so a small body that inflates enormously (a decompression bomb) is
refused with 413 before it is all inflated.
"""

from __future__ import annotations

import zlib

from fastapi import HTTPException

#: zlib window bits per coding: gzip wrapper, zlib wrapper (RFC 9110 "deflate"), raw deflate as some clients send
_WBITS = {"gzip": 16 + zlib.MAX_WBITS, "x-gzip": 16 + zlib.MAX_WBITS, "deflate": zlib.MAX_WBITS}
SUPPORTED = ("gzip", "deflate", "identity")


def codings(header: str | None) -> list[str]:
    """The codings of a Content-Encoding header, in the order they were applied; 415 for one not supported."""
    found = [c.strip().lower() for c in (header or "").split(",") if c.strip()]
    for coding in found:
        if coding not in _WBITS and coding != "identity":
            raise HTTPException(415, f"Content-Encoding {coding} is not supported: send {', '.join(SUPPORTED)}")
    return found


def decoded(body: bytes, header: str | None, limit: int) -> bytes:
    """The body with every coding undone, last applied first; 413 past ``limit`` bytes, 400 when corrupt."""
    for coding in reversed(codings(header)):
        if coding != "identity":
            body = _inflate(body, coding, limit)
    return body


def _inflate(data: bytes, coding: str, limit: int) -> bytes:
    try:
        return _inflate_with(data, _WBITS[coding], coding, limit)
    except zlib.error:
        if coding != "deflate":
            raise HTTPException(400, f"body is not valid {coding} data") from None
    try:  # raw deflate without the zlib wrapper
        return _inflate_with(data, -zlib.MAX_WBITS, coding, limit)
    except zlib.error:
        raise HTTPException(400, "body is not valid deflate data") from None


def _inflate_with(data: bytes, wbits: int, coding: str, limit: int) -> bytes:
    inflater = zlib.decompressobj(wbits)
    out = inflater.decompress(data, limit + 1)
    if len(out) > limit or inflater.unconsumed_tail:
        raise HTTPException(413, f"body larger than {limit} bytes once decompressed")
    if not inflater.eof:
        raise HTTPException(400, f"body is truncated {coding} data")
    return out
