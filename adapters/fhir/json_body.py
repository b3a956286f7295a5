"""FHIR JSON out: exact decimals, and the body limits of the HTTP doors.

Inbound numbers are parsed as ``Decimal`` (see ``parsing``) so a resource echoed back keeps the
precision the sender wrote (FHIR R4 datatypes §decimal: "1.50" and "1.5" differ in precision).
"""

from __future__ import annotations

import json
import re
import secrets
from decimal import Decimal

#: R4 http.html: the JSON mime type is application/fhir+json
FHIR_JSON = "application/fhir+json"
#: media types a FHIR POST may declare (application/json+fhir is the DSTU2 spelling some clients still send)
ACCEPTED_MEDIA_TYPES = frozenset({FHIR_JSON, "application/json", "application/json+fhir"})
#: largest body accepted; the biggest real prescription Bundle in the corpus is ~34 kB
MAX_BODY_BYTES = 4 * 1024 * 1024


#: a Decimal is first written as a JSON string holding this per-process random marker and its digits, which
#: are then put back bare: the C encoder does the rest. Control characters are always escaped by ``json``,
#: so the marker reads ``"\\u0000<nonce>1.50"`` in its output; a sender cannot know the nonce to forge one.
_NONCE = secrets.token_hex(16)
_MARK = "\u0000" + _NONCE
_MARKED = re.compile('"' + re.escape(json.dumps(_MARK)[1:-1]) + '([^"]*)"')


def fhir_json(value: object) -> bytes:
    """UTF-8 JSON of plain data, writing a ``Decimal`` exactly as it was read."""
    marked = False

    def decimal(item: object) -> str:
        nonlocal marked
        if isinstance(item, Decimal):
            marked = True
            return _MARK + str(item)
        raise TypeError(f"Object of type {type(item).__name__} is not JSON serializable")

    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=decimal)
    return (_MARKED.sub(r"\1", text) if marked else text).encode()


def media_type(content_type: str | None) -> str | None:
    """The bare media type of a Content-Type header (parameters such as charset dropped)."""
    if content_type is None:
        return None
    return content_type.split(";", 1)[0].strip().lower() or None
