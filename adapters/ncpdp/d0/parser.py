"""Bytes -> D.0 transmission model, raising only MessageContentError on anything malformed.

Layout (standards.md §4.1): fixed-width header, then ``RS FS AMnn FS <id><value>...`` segments; a GS
opens each transaction group; an ETX may close the transmission.
"""

from __future__ import annotations

from datetime import date
from typing import TypeVar

from pydantic import ValidationError

from adapters.ncpdp.d0.content_errors import content_error, from_validation
from adapters.ncpdp.d0.model import (
    END_OF_TEXT,
    FIELD_SEPARATOR,
    GROUP_SEPARATOR,
    REQUEST_HEADER_LENGTH,
    RESPONSE_HEADER_LENGTH,
    SEGMENT_ID_FIELD,
    SEGMENT_SEPARATOR,
    RequestHeader,
    RequestTransmission,
    ResponseHeader,
    ResponseTransmission,
    Segment,
    TransactionGroup,
)
from hub.domain.claim_codes import SYNTAX_ERROR_CODE
from hub.errors import MessageContentError

_H = TypeVar("_H", RequestHeader, ResponseHeader)
_SEPARATORS = FIELD_SEPARATOR + GROUP_SEPARATOR + SEGMENT_SEPARATOR
#: header attribute -> (field id, M/I reject code); codes from standards.md §4.4 where listed, else
#: the M/I code named after the field id (A9, AK, B2, F1), which is NCPDP's pattern (unverified)
_HEADER_CODES = {
    "bin": ("A1", "01"),
    "version": ("A2", "02"),
    "transaction_code": ("A3", "03"),
    "processor_control_number": ("A4", "04"),
    "transaction_count": ("A9", "A9"),
    "service_provider_id_qualifier": ("B2", "B2"),
    "service_provider_id": ("B1", "05"),
    "date_of_service": ("D1", "15"),
    "software_vendor_id": ("AK", "AK"),
    "header_response_status": ("F1", SYNTAX_ERROR_CODE),
}
_REQUEST_SLICES = {
    "bin": (0, 6),
    "version": (6, 8),
    "transaction_code": (8, 10),
    "processor_control_number": (10, 20),
    "transaction_count": (20, 21),
    "service_provider_id_qualifier": (21, 23),
    "service_provider_id": (23, 38),
    "date_of_service": (38, 46),
    "software_vendor_id": (46, 56),
}
_RESPONSE_SLICES = {
    "version": (0, 2),
    "transaction_code": (2, 4),
    "transaction_count": (4, 5),
    "header_response_status": (5, 6),
    "service_provider_id_qualifier": (6, 8),
    "service_provider_id": (8, 23),
    "date_of_service": (23, 31),
}


def parse_request(raw: bytes) -> RequestTransmission:
    """Parse a request transmission (B1/B2/B3/E1...) from the pharmacy."""
    text, etx = _text(raw)
    fields = _header(text, REQUEST_HEADER_LENGTH, _REQUEST_SLICES, "request")
    header = _validated_header(RequestHeader, fields, "request header", _REQUEST_SLICES)
    segments, groups = _body(text, REQUEST_HEADER_LENGTH)
    try:
        return RequestTransmission(header=header, segments=segments, groups=groups, end_of_text=etx)
    except ValidationError as exc:
        raise _count_error(exc) from exc


def parse_response(raw: bytes) -> ResponseTransmission:
    """Parse a response transmission from the payer."""
    text, etx = _text(raw)
    fields = _header(text, RESPONSE_HEADER_LENGTH, _RESPONSE_SLICES, "response")
    header = _validated_header(ResponseHeader, fields, "response header", _RESPONSE_SLICES)
    segments, groups = _body(text, RESPONSE_HEADER_LENGTH)
    try:
        return ResponseTransmission(header=header, segments=segments, groups=groups, end_of_text=etx)
    except ValidationError as exc:
        raise _count_error(exc) from exc


def _validated_header(model: type[_H], fields: dict[str, object], where: str, slices: dict[str, tuple[int, int]]) -> _H:
    try:
        return model.model_validate(fields)
    except ValidationError as exc:
        offsets = {name: start for name, (start, _) in slices.items()}
        raise from_validation(exc, where, _HEADER_CODES, offsets) from exc


def _count_error(exc: ValidationError) -> MessageContentError:
    return content_error("A9", str(exc.errors()[0]["msg"]), "A9")


def parse_transmission(raw: bytes) -> RequestTransmission | ResponseTransmission:
    """Parse either kind, telling them apart by where the fixed-width header ends."""
    if _header_ends_at(raw, RESPONSE_HEADER_LENGTH) and raw[:2] == b"D0":
        return parse_response(raw)
    return parse_request(raw)


def _header_ends_at(raw: bytes, length: int) -> bool:
    return len(raw) >= length and raw[length : length + 1] in (b"", b"\x1e", b"\x1d", b"\x03")


def _text(raw: bytes) -> tuple[str, bool]:
    """Decode ASCII and drop a final ETX; any other control character is a syntax error."""
    try:
        text = raw.decode("ascii")
    except UnicodeDecodeError as exc:
        raise content_error(SYNTAX_ERROR_CODE, f"non-ASCII byte at offset {exc.start}", "") from exc
    etx = text.endswith(END_OF_TEXT)
    body = text[:-1] if etx else text
    bad = next((i for i, c in enumerate(body) if not c.isprintable() and c not in _SEPARATORS), None)
    if bad is not None:
        raise content_error(SYNTAX_ERROR_CODE, f"control character {body[bad]!r} at offset {bad}")
    return body, etx


def _header(text: str, length: int, slices: dict[str, tuple[int, int]], kind: str) -> dict[str, object]:
    head = text[:length]
    if len(head) < length or any(c in _SEPARATORS for c in head):
        raise content_error(SYNTAX_ERROR_CODE, f"{kind} header must be {length} characters, got {head!r}")
    if text[length : length + 1] not in ("", SEGMENT_SEPARATOR, GROUP_SEPARATOR):
        raise content_error(SYNTAX_ERROR_CODE, f"{kind} header longer than {length} characters (offset {length})")
    values: dict[str, object] = {name: head[a:b] for name, (a, b) in slices.items()}
    values["transaction_count"] = _count(head[slices["transaction_count"][0]])
    values["date_of_service"] = _ccyymmdd(str(values["date_of_service"]), "D1", "15")
    return values


def _count(char: str) -> int:
    if not char.isdigit():
        raise content_error("A9", f"109-A9 transaction count {char!r} is not a digit", "A9")
    return int(char)


def _ccyymmdd(text: str, field_id: str, code: str) -> date:
    """A CCYYMMDD date; the reject code is the field's M/I code."""
    try:
        if len(text) != 8 or not text.isdigit():
            raise ValueError(text)
        return date(int(text[:4]), int(text[4:6]), int(text[6:]))
    except ValueError as exc:
        raise content_error(code, f"{field_id}: {text!r} is not a CCYYMMDD date", field_id) from exc


def _body(text: str, offset: int) -> tuple[tuple[Segment, ...], tuple[TransactionGroup, ...]]:
    parts = text[offset:].split(GROUP_SEPARATOR)
    segments = _segments(parts[0], offset, allow_empty=True)
    groups = []
    position = offset + len(parts[0]) + 1
    for number, part in enumerate(parts[1:], start=1):
        group_segments = _segments(part, position, allow_empty=False, group=number)
        groups.append(TransactionGroup(segments=group_segments))
        position += len(part) + 1
    return segments, tuple(groups)


def _segments(text: str, offset: int, allow_empty: bool, group: int = 0) -> tuple[Segment, ...]:
    where = f"transaction group {group}" if group else "transmission level"
    if not text:
        if allow_empty:
            return ()
        raise content_error(SYNTAX_ERROR_CODE, f"{where} at offset {offset} has no segment")
    if not text.startswith(SEGMENT_SEPARATOR):
        raise content_error(SYNTAX_ERROR_CODE, f"{where}: expected segment separator at offset {offset}")
    segments = []
    position = offset + 1
    for chunk in text[1:].split(SEGMENT_SEPARATOR):
        segments.append(_segment(chunk, position, where))
        position += len(chunk) + 1
    return tuple(segments)


def _segment(chunk: str, offset: int, where: str) -> Segment:
    if not chunk.startswith(FIELD_SEPARATOR):
        raise content_error(SYNTAX_ERROR_CODE, f"{where}: segment at offset {offset} does not start with a field")
    pairs = []
    position = offset + 1
    for field in chunk[1:].split(FIELD_SEPARATOR):
        if len(field) < 2:
            text = f"{where}: field {field!r} at offset {position} has no 2-character id"
            raise content_error(SYNTAX_ERROR_CODE, text)
        pairs.append((field[:2], field[2:]))
        position += len(field) + 1
    (first_id, segment_id), *rest = pairs
    if first_id != SEGMENT_ID_FIELD or len(segment_id) != 2:
        text = f"{where}: segment at offset {offset} must start with AMnn, got {first_id + segment_id!r}"
        raise content_error(SYNTAX_ERROR_CODE, text, "AM")
    return _validated_segment(segment_id, tuple(rest), where, offset)


def _validated_segment(segment_id: str, fields: tuple[tuple[str, str], ...], where: str, offset: int) -> Segment:
    try:
        return Segment(segment_id=segment_id, fields=fields)
    except ValidationError as exc:
        text = f"{where}: segment AM{segment_id} at offset {offset} is malformed"
        raise content_error(SYNTAX_ERROR_CODE, text, f"AM{segment_id}") from exc
