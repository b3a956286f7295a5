"""NCPDP Batch 1.2 envelopes around D.0 transmissions: unwrap them to transmissions, and wrap them back.

Layout as seen in the EdiFabric corpus files (unverified against the licensed Batch standard): every record
is STX 0x02 ... ETX 0x03; record ``00`` is a 73-character batch header, ``G1`` + a 10-character reference
number + one D.0 transmission is a detail, ``99`` is a 54-character trailer whose characters 9..18 count
the batch's records (header and trailer included). A file may hold several batches back to back.
"""

from __future__ import annotations

from pydantic import Field

from adapters.ncpdp.d0.builder import build_transmission
from adapters.ncpdp.d0.content_errors import content_error
from adapters.ncpdp.d0.model import RequestTransmission, ResponseTransmission
from adapters.ncpdp.d0.parser import parse_transmission
from hub.domain.claim_codes import SYNTAX_ERROR_CODE
from hub.domain.order_parts import Frozen
from hub.errors import MessageContentError

START_OF_TEXT = b"\x02"
END_OF_TEXT = b"\x03"
HEADER_LENGTH = 73
TRAILER_LENGTH = 54
REFERENCE_LENGTH = 10
_COUNT = slice(9, 19)


class BatchDetail(Frozen):
    """One G1 detail record: the sender's reference number and the transmission it carries."""

    reference: str = Field(min_length=REFERENCE_LENGTH, max_length=REFERENCE_LENGTH)
    transmission: RequestTransmission | ResponseTransmission


class Batch(Frozen):
    """One batch: header record, detail records, trailer record (records kept as sent)."""

    header_record: str = Field(min_length=HEADER_LENGTH, max_length=HEADER_LENGTH)
    details: tuple[BatchDetail, ...]
    trailer_record: str = Field(min_length=TRAILER_LENGTH, max_length=TRAILER_LENGTH)


def is_batch(raw: bytes) -> bool:
    """True when the bytes look like a Batch 1.2 file rather than a bare transmission."""
    return raw.startswith(START_OF_TEXT)


def parse_batch_file(raw: bytes) -> tuple[Batch, ...]:
    """Every batch in a Batch 1.2 file, each detail parsed as a D.0 transmission."""
    batches: list[Batch] = []
    header: str | None = None
    details: list[BatchDetail] = []
    for offset, record in _records(raw):
        kind = record[:2]
        if kind == b"00" and header is None:
            header = _fixed(record, HEADER_LENGTH, "batch header", offset)
        elif kind == b"G1" and header is not None:
            details.append(_detail(record, offset))
        elif kind == b"99" and header is not None:
            trailer = _fixed(record, TRAILER_LENGTH, "batch trailer", offset)
            _check_count(trailer, len(details), offset)
            batches.append(Batch(header_record=header, details=tuple(details), trailer_record=trailer))
            header, details = None, []
        else:
            text = f"batch record at offset {offset}: unexpected record type {kind!r}"
            raise content_error(SYNTAX_ERROR_CODE, text, kind.decode("latin-1"))
    if header is not None or not batches:
        raise content_error(SYNTAX_ERROR_CODE, "batch file ends without a 99 trailer record")
    return tuple(batches)


def build_batch_file(batches: tuple[Batch, ...]) -> bytes:
    """Serialise batches back to a Batch 1.2 file."""
    out = b""
    for batch in batches:
        out += _record(batch.header_record.encode("ascii"))
        for detail in batch.details:
            out += _record(b"G1" + detail.reference.encode("ascii") + build_transmission(detail.transmission))
        out += _record(batch.trailer_record.encode("ascii"))
    return out


def _record(body: bytes) -> bytes:
    return START_OF_TEXT + body + END_OF_TEXT


def _records(raw: bytes) -> list[tuple[int, bytes]]:
    records = []
    offset = 0
    while offset < len(raw):
        if raw[offset : offset + 1] != START_OF_TEXT:
            raise content_error(SYNTAX_ERROR_CODE, f"batch record at offset {offset} does not start with STX")
        end = raw.find(END_OF_TEXT, offset)
        if end < 0:
            raise content_error(SYNTAX_ERROR_CODE, f"batch record at offset {offset} has no ETX")
        records.append((offset, raw[offset + 1 : end]))
        offset = end + 1
    return records


def _fixed(record: bytes, length: int, what: str, offset: int) -> str:
    if len(record) != length or not record.isascii() or not record.decode("ascii").isprintable():
        text = f"{what} record at offset {offset} must be {length} printable characters, got {len(record)}"
        raise content_error(SYNTAX_ERROR_CODE, text, record[:2].decode("latin-1"))
    return record.decode("ascii")


def _detail(record: bytes, offset: int) -> BatchDetail:
    reference = record[2 : 2 + REFERENCE_LENGTH]
    if len(reference) != REFERENCE_LENGTH or not reference.isascii() or not reference.isalnum():
        raise content_error(SYNTAX_ERROR_CODE, f"G1 detail at offset {offset}: bad reference number", "G1")
    try:
        transmission = parse_transmission(record[2 + REFERENCE_LENGTH :])
    except MessageContentError as exc:
        problem = exc.problems[0]
        text = f"G1 detail at offset {offset}: {problem.text}"
        raise content_error(problem.code, text, problem.location) from exc
    return BatchDetail(reference=reference.decode("ascii"), transmission=transmission)


def _check_count(trailer: str, detail_count: int, offset: int) -> None:
    declared = trailer[_COUNT]
    if not declared.isdigit() or int(declared) != detail_count + 2:
        text = f"batch trailer at offset {offset} counts {declared!r} records, found {detail_count + 2}"
        raise content_error(SYNTAX_ERROR_CODE, text, "99")
