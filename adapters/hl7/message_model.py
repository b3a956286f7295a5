"""The parsed shape of an HL7 v2 message: its header and its segments, free of any HL7 library's types."""

from __future__ import annotations

from adapters.hl7.escaping import HL7_NULL, STANDARD, Delimiters, unescape
from hub.domain.order_parts import Frozen


class Hl7Header(Frozen):
    """What MSH says, enough to validate, route and acknowledge the message.

    HD fields (MSH-3..6) are kept as ER7 text in the standard delimiters (``APP^1.2.3^ISO``) so an ACK can
    echo them; every other field is its first component as plain text.  Every field defaults to empty, so a
    header holding only ``control_id`` can stand in for a message whose MSH could not be read.
    """

    sending_application: str = ""
    sending_facility: str = ""
    receiving_application: str = ""
    receiving_facility: str = ""
    message_datetime: str = ""
    message_type: str = ""
    trigger_event: str = ""
    #: MSH-9.3, or ``<type>_<trigger>`` when the sender left it out (it is absent before v2.3.1)
    structure: str = ""
    control_id: str = ""
    processing_id: str = ""
    version: str = ""
    accept_ack_type: str = ""
    application_ack_type: str = ""
    charset: str = ""
    field_separator: str = "|"
    encoding_characters: str = "^~\\&"


class Hl7Segment(Frozen):
    """One segment: raw ER7 fields, read through :meth:`get`, which splits and unescapes on demand."""

    segment_id: str
    #: occurrence of this segment id in the message, from 1: the ERL "segment sequence"
    sequence: int
    #: ``fields[n]`` is field n as sent; ``fields[0]`` is the segment id; for MSH, ``fields[1]`` is MSH-1
    fields: tuple[str, ...]
    delimiters: Delimiters = STANDARD

    def raw(self, field: int) -> str:
        """Field ``field`` exactly as sent (escaped, all repetitions), or empty."""
        return self.fields[field] if 0 <= field < len(self.fields) else ""

    def repetitions(self, field: int) -> list[str]:
        """The raw repetitions of a field; an empty field has none."""
        value = self.raw(field)
        if not value or (self.segment_id == "MSH" and field <= 2):
            return [value] if value else []
        return value.split(self.delimiters.repetition)

    def get(self, field: int, component: int = 1, repetition: int = 1, subcomponent: int = 1) -> str:
        """One leaf value as plain text; empty when absent or the HL7 null ``""``."""
        if self.segment_id == "MSH" and field <= 2:
            return self.raw(field)
        reps = self.repetitions(field)
        if not 1 <= repetition <= len(reps):
            return ""
        leaf = _nth(reps[repetition - 1], self.delimiters.component, component)
        leaf = _nth(leaf, self.delimiters.subcomponent, subcomponent)
        return "" if leaf == HL7_NULL else unescape(leaf, self.delimiters)

    def location(self, field: int | None = None) -> str:
        """The ERL of this segment or one of its fields, e.g. ``RXE^1^2``."""
        base = f"{self.segment_id}^{self.sequence}"
        return base if field is None else f"{base}^{field}"


def _nth(value: str, sep: str, n: int) -> str:
    if n == 1 and sep not in value:
        return value
    parts = value.split(sep)
    return parts[n - 1] if 1 <= n <= len(parts) else ""


class ParsedHl7(Frozen):
    """A message split into segments, in order, with its header already read."""

    header: Hl7Header
    segments: tuple[Hl7Segment, ...]

    def all(self, segment_id: str) -> list[Hl7Segment]:
        """Every segment with this id, in message order."""
        return [s for s in self.segments if s.segment_id == segment_id]

    def first(self, segment_id: str) -> Hl7Segment | None:
        """The first segment with this id, if any."""
        return next((s for s in self.segments if s.segment_id == segment_id), None)

    def get(self, segment: str, field: int, component: int = 1, repetition: int = 1, *, sequence: int = 1) -> str:
        """One value by address, e.g. ``get("PID", 3, 4)``; empty when anything along the way is absent."""
        found = self.all(segment)
        if not 1 <= sequence <= len(found):
            return ""
        return found[sequence - 1].get(field, component, repetition)
