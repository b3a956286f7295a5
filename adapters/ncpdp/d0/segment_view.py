"""Typed views over raw segments: declare which field id feeds which attribute, and in which wire format.

A view reads the first occurrence of each declared field (blank means absent), decodes it (overpunch money,
implied-decimal quantity, CCYYMMDD, integer, or space-trimmed text) and validates it with pydantic; any
failure becomes a MessageContentError naming the segment and field, with the field's M/I reject code.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from enum import Enum
from typing import Any, ClassVar, NamedTuple, Self, TypeVar

from pydantic import ValidationError

from adapters.ncpdp.d0.amounts import decode_overpunch, decode_quantity, encode_overpunch, encode_quantity
from adapters.ncpdp.d0.builder import ccyymmdd
from adapters.ncpdp.d0.content_errors import content_error, from_validation
from adapters.ncpdp.d0.model import Segment
from adapters.ncpdp.d0.reject_codes import missing_or_invalid_code
from hub.domain.order_parts import Frozen
from hub.errors import MessageContentError


class WireFormat(Enum):
    """How a field's characters encode its value (standards.md §4.1)."""

    TEXT = "text"
    INTEGER = "integer"
    MONEY = "money"
    QUANTITY = "quantity"
    DATE = "date"


class WireField(NamedTuple):
    """A field id and its format."""

    field_id: str
    fmt: WireFormat = WireFormat.TEXT


def decode(fmt: WireFormat, text: str, location: str) -> object:
    """Decode one field value; raises MessageContentError with the field's M/I code."""
    code = missing_or_invalid_code(location)
    try:
        return _decode(fmt, text.strip(), location)
    except (ValueError, MessageContentError) as exc:
        raise content_error(code, f"field {location}: {text!r} is not a valid {fmt.value}", location) from exc


def _decode(fmt: WireFormat, text: str, location: str) -> object:
    match fmt:
        case WireFormat.INTEGER:
            if not (text.isascii() and text.isdigit()):
                raise ValueError(text)
            return int(text)
        case WireFormat.MONEY:
            return decode_overpunch(text, location)
        case WireFormat.QUANTITY:
            return decode_quantity(text, location)
        case WireFormat.DATE:
            if len(text) != 8 or not text.isdigit():
                raise ValueError(text)
            return date(int(text[:4]), int(text[4:6]), int(text[6:]))
    return text


def encode(fmt: WireFormat, value: Any) -> str:
    """Encode one value in its wire format."""
    match fmt:
        case WireFormat.MONEY:
            return encode_overpunch(Decimal(value))
        case WireFormat.QUANTITY:
            return encode_quantity(Decimal(value))
        case WireFormat.DATE:
            return ccyymmdd(value)
    return str(value)


class SegmentView(Frozen):
    """Base of typed segment views; subclasses set ``segment_id`` and ``wire_fields``."""

    segment_id: ClassVar[str] = ""
    wire_fields: ClassVar[dict[str, WireField]] = {}

    @classmethod
    def from_segment(cls, segment: Segment) -> Self:
        """Read the view from a raw segment."""
        values: dict[str, object] = {}
        for attr, (field_id, fmt) in cls.wire_fields.items():
            raw = segment.first(field_id)
            if raw is not None and raw.strip():
                values[attr] = decode(fmt, raw, field_id)
        values.update(cls._repeating_from(segment))
        return cls.validated(values, f"AM{segment.segment_id}")

    @classmethod
    def validated(cls, values: dict[str, object], where: str) -> Self:
        """Validate decoded values, translating pydantic's errors into MessageContentError."""
        try:
            return cls.model_validate(values)
        except ValidationError as exc:
            codes = {a: (f.field_id, missing_or_invalid_code(f.field_id)) for a, f in cls.wire_fields.items()}
            raise from_validation(exc, f"segment {where}", codes) from exc

    @classmethod
    def _repeating_from(cls, segment: Segment) -> dict[str, object]:
        """Values of repeating fields; views with repeats override this."""
        return {}

    def to_segment(self) -> Segment:
        """Write the view back as a raw segment (declared fields first, then repeating ones)."""
        fields = [
            (field_id, encode(fmt, value))
            for attr, (field_id, fmt) in self.wire_fields.items()
            if (value := getattr(self, attr)) is not None
        ]
        return Segment(segment_id=self.segment_id, fields=(*fields, *self._repeating_fields()))

    def _repeating_fields(self) -> list[tuple[str, str]]:
        """Fields of repeating values, in wire order; views with repeats override this."""
        return []


def split_repeats(segment: Segment, counter_id: str, field_ids: set[str]) -> list[dict[str, str]]:
    """Split a segment's repeating sets (DUR/PPS, COB): each set starts at its counter field."""
    sets: list[dict[str, str]] = []
    for field_id, value in segment.fields:
        if field_id == counter_id or (field_id in field_ids and not sets):
            sets.append({})
        if field_id in field_ids | {counter_id} and field_id not in sets[-1]:
            sets[-1][field_id] = value
    return sets


_V = TypeVar("_V", bound=SegmentView)


def view_of(cls: type[_V], segment: Segment | None) -> _V | None:
    """The typed view of an optional segment."""
    return None if segment is None else cls.from_segment(segment)


def segments_of(*views: SegmentView | None) -> tuple[Segment, ...]:
    """Raw segments for the views that are present, in the given order."""
    return tuple(v.to_segment() for v in views if v is not None)
