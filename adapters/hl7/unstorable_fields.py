"""Refuse an HL7 message holding text the hub cannot store (``hub.domain.storable``), at its leaf's ERL.

A NUL reaches a field as a raw 0x00 byte or as a ``\\X00\\`` hex escape (v2.5.1 Ch. 2.7.6); no decoding
of ours yields a surrogate. The whole message is refused, wherever the character sits: AE with ERR 0357
code 102 (data type error) at the first such leaf, so the sender knows which value to fix.
"""

from __future__ import annotations

from adapters.hl7.escaping import unescape
from adapters.hl7.message_model import Hl7Segment, ParsedHl7
from hub.domain.storable import first_unstorable, unstorable_in
from hub.errors import MessageContentError, Problem


def refuse_unstorable(parsed: ParsedHl7) -> None:
    """Raise ``MessageContentError`` (102, at the leaf's ERL) for the first leaf the hub cannot store.

    On the ACK path: one look at the whole message (a few microseconds) before any segment is walked.
    """
    segments = ["".join(segment.fields) for segment in parsed.segments]
    if not _may_hold("".join(segments), parsed.segments[0].delimiters.escape):
        return
    for segment, text in zip(parsed.segments, segments, strict=True):
        if _may_hold(text, segment.delimiters.escape):
            _check(segment, parsed.header.control_id)


def _may_hold(text: str, escape: str) -> bool:
    """A character the hub cannot store, or a hex escape."""
    return unstorable_in(text) is not None or bool(escape and f"{escape}X" in text)


def _check(segment: Hl7Segment, control_id: str) -> None:
    d = segment.delimiters
    first = 3 if segment.segment_id == "MSH" else 1  # MSH-1 and MSH-2 are the delimiters themselves
    for field in range(first, len(segment.fields)):
        for r, repetition in enumerate(segment.raw(field).split(d.repetition), 1):
            for c, component in enumerate(repetition.split(d.component), 1):
                for s, leaf in enumerate(component.split(d.subcomponent), 1):
                    found = first_unstorable(unescape(leaf, d))
                    if found is None:
                        continue
                    where = f"{segment.location(field)}^{r}^{c}^{s}"
                    name = f"{segment.segment_id}-{field}.{c}" + (f".{s}" if s > 1 else "")
                    text = found.describe(name)
                    raise MessageContentError(text, [Problem("102", text, location=where)], control_id=control_id)
