"""FHIR JSON out: exact decimals, and the body limits of the HTTP doors.

Inbound numbers are parsed as ``Decimal`` (see ``parsing``) so a resource echoed back keeps the
precision the sender wrote (FHIR R4 datatypes §decimal: "1.50" and "1.5" differ in precision).
"""

from __future__ import annotations

import json
from decimal import Decimal

#: R4 http.html: the JSON mime type is application/fhir+json
FHIR_JSON = "application/fhir+json"
#: media types a FHIR POST may declare (application/json+fhir is the DSTU2 spelling some clients still send)
ACCEPTED_MEDIA_TYPES = frozenset({FHIR_JSON, "application/json", "application/json+fhir"})
#: largest body accepted; the biggest real prescription Bundle in the corpus is ~34 kB
MAX_BODY_BYTES = 4 * 1024 * 1024


def _encode(value: object, out: list[str]) -> None:
    if isinstance(value, dict):
        out.append("{")
        for position, (key, item) in enumerate(value.items()):
            out.append(("," if position else "") + json.dumps(str(key), ensure_ascii=False) + ":")
            _encode(item, out)
        out.append("}")
    elif isinstance(value, list | tuple):
        out.append("[")
        for position, item in enumerate(value):
            out.append("," if position else "")
            _encode(item, out)
        out.append("]")
    elif isinstance(value, Decimal):
        out.append(str(value))
    else:
        out.append(json.dumps(value, ensure_ascii=False))


def fhir_json(value: object) -> bytes:
    """UTF-8 JSON of plain data, writing a ``Decimal`` exactly as it was read."""
    out: list[str] = []
    _encode(value, out)
    return "".join(out).encode()


def media_type(content_type: str | None) -> str | None:
    """The bare media type of a Content-Type header (parameters such as charset dropped)."""
    if content_type is None:
        return None
    return content_type.split(";", 1)[0].strip().lower() or None
