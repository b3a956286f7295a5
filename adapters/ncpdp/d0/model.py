"""The raw D.0 transmission model: fixed-width headers plus ordered segments of (field id, value) pairs.

Segments keep every field in wire order, so repeating fields (511-FB, 420-DK, DUR/PPS sets, 526-FQ) and
fields or segments we do not know survive a parse/build round trip (standards.md §4.5: dzero's dict of
fields collapses repeats). Values are kept exactly as sent, padding included.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Self

from pydantic import AfterValidator, Field, model_validator

from hub.domain.order_parts import Frozen

#: 0x1C field separator, 0x1D group separator, 0x1E segment separator, 0x03 optional end of text
FIELD_SEPARATOR = "\x1c"
GROUP_SEPARATOR = "\x1d"
SEGMENT_SEPARATOR = "\x1e"
END_OF_TEXT = "\x03"
REQUEST_HEADER_LENGTH = 56
RESPONSE_HEADER_LENGTH = 31
#: 111-AM segment identification: every segment's first field
SEGMENT_ID_FIELD = "AM"
MAX_TRANSACTIONS = 4
#: 103-A3 transaction codes (standards.md §4.1)
TRANSACTION_CODES = frozenset(
    {"B1", "B2", "B3", "E1", "P1", "P2", "P3", "P4", "N1", "N2", "N3", "C1", "C2", "C3", "S1", "S2", "S3"}
)


def is_wire_text(text: str) -> bool:
    """True when text is printable ASCII, so it cannot collide with a separator."""
    return text.isascii() and text.isprintable()


def _wire_text(text: str) -> str:
    if not is_wire_text(text):
        raise ValueError(f"not printable ASCII: {text!r}")
    return text


def _padded(text: str) -> str:
    """Header fields are left-justified and space-padded, so trailing spaces carry no meaning."""
    return _wire_text(text).rstrip(" ")


WireText = Annotated[str, AfterValidator(_wire_text)]
HeaderText = Annotated[str, AfterValidator(_padded)]


def _transaction_code(code: str) -> str:
    if code not in TRANSACTION_CODES:
        raise ValueError(f"unknown transaction code {code!r}")
    return code


TransactionCode = Annotated[str, AfterValidator(_transaction_code)]


class Segment(Frozen):
    """One segment: its 111-AM id (``04`` for AM04) and its other fields in wire order."""

    segment_id: Annotated[WireText, Field(min_length=2, max_length=2)]
    fields: tuple[tuple[Annotated[WireText, Field(min_length=2, max_length=2)], WireText], ...] = ()

    def first(self, field_id: str) -> str | None:
        """The first value of a field, as sent, or None when the field is absent."""
        return next((value for fid, value in self.fields if fid == field_id), None)

    def all(self, field_id: str) -> list[str]:
        """Every value of a repeating field, in wire order."""
        return [value for fid, value in self.fields if fid == field_id]


class TransactionGroup(Frozen):
    """One transaction (claim) of a transmission: the segments between two group separators."""

    segments: tuple[Segment, ...] = Field(min_length=1)

    def segment(self, segment_id: str) -> Segment | None:
        """The first segment with this id, or None."""
        return next((s for s in self.segments if s.segment_id == segment_id), None)


def _find(segments: tuple[Segment, ...], segment_id: str) -> Segment | None:
    return next((s for s in segments if s.segment_id == segment_id), None)


class RequestHeader(Frozen):
    """The 56-character request header (101-A1 .. 110-AK)."""

    bin: Annotated[HeaderText, Field(max_length=6)]
    version: Annotated[WireText, Field(pattern=r"^D0$")] = "D0"
    transaction_code: TransactionCode
    processor_control_number: Annotated[HeaderText, Field(max_length=10)] = ""
    transaction_count: int = Field(ge=1, le=MAX_TRANSACTIONS)
    service_provider_id_qualifier: Annotated[HeaderText, Field(max_length=2)] = "01"
    service_provider_id: Annotated[HeaderText, Field(max_length=15)]
    date_of_service: date
    software_vendor_id: Annotated[HeaderText, Field(max_length=10)] = ""


class ResponseHeader(Frozen):
    """The 31-character response header (102-A2 .. 401-D1)."""

    version: Annotated[WireText, Field(pattern=r"^D0$")] = "D0"
    transaction_code: TransactionCode
    transaction_count: int = Field(ge=1, le=MAX_TRANSACTIONS)
    #: 501-F1: A accepted, R rejected
    header_response_status: Annotated[WireText, Field(pattern=r"^[AR]$")]
    service_provider_id_qualifier: Annotated[HeaderText, Field(max_length=2)] = "01"
    service_provider_id: Annotated[HeaderText, Field(max_length=15)]
    date_of_service: date


class _Transmission(Frozen):
    segments: tuple[Segment, ...] = ()
    groups: tuple[TransactionGroup, ...] = Field(default=(), max_length=MAX_TRANSACTIONS)
    #: whether the sender closed the transmission with ETX (0x03); kept for a lossless rebuild
    end_of_text: bool = False

    def segment(self, segment_id: str) -> Segment | None:
        """The first transmission-level segment with this id, or None."""
        return _find(self.segments, segment_id)

    def _check_count(self, count: int) -> None:
        # 109-A9 counts transactions; E1 carries no transaction-level segment, so no group at all is valid.
        if self.groups and len(self.groups) != count:
            raise ValueError(f"109-A9 says {count} transaction(s) but {len(self.groups)} group(s) follow")


class RequestTransmission(_Transmission):
    """A request: header, transmission-level segments (AM04, AM01), then one group per transaction."""

    header: RequestHeader

    @model_validator(mode="after")
    def _count_matches(self) -> Self:
        self._check_count(self.header.transaction_count)
        return self


class ResponseTransmission(_Transmission):
    """A response: header, transmission-level segments (AM20, AM25, AM29), then one group per transaction."""

    header: ResponseHeader

    @model_validator(mode="after")
    def _count_matches(self) -> Self:
        self._check_count(self.header.transaction_count)
        return self
