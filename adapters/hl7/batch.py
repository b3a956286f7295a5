"""HL7 v2 batches: an FHS/BHS payload cut into its messages, its envelope checked, nothing else.

HL7 batch protocol (HL7 v2 Ch. 2: v2.3 section 2.23.3, v2.4 section 2.15.3; grammar and quotes below from the
v2.3 text, mirrored at www.eng.tau.ac.il/~gannot/MI/hl7web.zip)::

    [FHS] { [BHS] { [MSH ...] } [BTS] } [FTS]

Fields read (HL7 v2 segment definitions, HL7/v2ig ``input/sourceOfTruth`` BHS, FHS, BTS, FTS): BHS-1/2
delimiters, BHS-3/4 sending application/facility, BHS-11 batch control id ("can be echoed back in BHS-12
Reference Batch Control ID if an answering batch is needed"); FHS-1..4 and FHS-11 likewise for a file;
BTS-1 batch message count ("the count of the individual messages contained within the batch"); FTS-1
file batch count ("the number of batches contained in this file").

Stricter than the grammar, where every envelope segment is optional: a BHS needs its BTS and an FHS its FTS,
and a valued BTS-1/FTS-1 must match what arrived.  A batch cut short would otherwise read as a shorter
batch, and its missing messages as implicitly accepted (v2.3 Ch. 2.23.3: "a batch containing zero negative
acknowledgment messages ... implicitly acknowledged").  Each message keeps its own bytes, so it is checked,
deduplicated and stored exactly as if it had come alone.  Segments may end in CR, LF or CRLF.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from adapters.hl7.escaping import STANDARD, Delimiters, escape
from adapters.hl7.message_model import Hl7Segment
from hub.domain.order_parts import Frozen
from hub.errors import Problem

#: segments that open or close a file or a batch; MSH opens a message
ENVELOPE = ("FHS", "BHS", "BTS", "FTS")
_BOM = b"\xef\xbb\xbf"
_LINE_END = re.compile(rb"\r\n|\n\r|\r|\n")


class EnvelopeHeader(Frozen):
    """What an FHS or BHS says that its answer echoes: HD fields as ER7 in the standard delimiters."""

    sending_application: str = ""
    sending_facility: str = ""
    #: FHS-11 file control id / BHS-11 batch control id
    control_id: str = ""


class Batch(Frozen):
    """One batch: its BHS (None when a file holds messages without one) and its messages' bytes."""

    header: EnvelopeHeader | None = None
    messages: tuple[bytes, ...] = ()


class BatchFile(Frozen):
    """A payload that opened with FHS or BHS: its file header, its batches, and what is wrong with it.

    Any problem is the envelope's: no message of such a file may be taken (see the module docstring).
    """

    header: EnvelopeHeader | None = None
    batches: tuple[Batch, ...] = ()
    problems: tuple[Problem, ...] = ()

    @property
    def messages(self) -> list[bytes]:
        """Every message of every batch, in order."""
        return [m for batch in self.batches for m in batch.messages]


def is_batch(raw: bytes) -> bool:
    """Whether a payload opens with FHS or BHS (after a BOM or blank lines)."""
    head = raw.removeprefix(_BOM).lstrip()[:4]
    return head[:3] in (b"FHS", b"BHS") and len(head) == 4 and not head[3:].isalnum()


def read_batch(raw: bytes) -> BatchFile:
    """Cut a batch payload into messages and check its envelope; never raises."""
    return _Reader(_lines(raw.removeprefix(_BOM))).file()


@dataclass
class _Line:
    segment_id: str
    #: occurrence of this segment id in the payload, from 1 (the ERL segment sequence)
    sequence: int
    text: str
    raw: bytes

    @property
    def location(self) -> str:
        return f"{self.segment_id}^{self.sequence}"


def _lines(raw: bytes) -> list[_Line]:
    """Non-blank lines, each with the bytes up to the next line (its end included, so messages keep theirs)."""
    starts, pos = [], 0
    for end in _LINE_END.finditer(raw):
        if raw[pos : end.start()].strip():
            starts.append(pos)
        pos = end.end()
    if raw[pos:].strip():
        starts.append(pos)
    seen: dict[str, int] = {}
    out = []
    for start, stop in zip(starts, [*starts[1:], len(raw)], strict=True):
        chunk = raw[start:stop]
        text = _LINE_END.split(chunk, maxsplit=1)[0].decode("latin-1")  # bytes kept one to one
        seg_id = text[:3] if len(text) == 3 or not text[3:4].isalnum() else text
        seen[seg_id] = seen.get(seg_id, 0) + 1
        out.append(_Line(seg_id, seen[seg_id], text, chunk))
    return out


@dataclass
class _Reader:
    lines: list[_Line]
    pos: int = 0
    problems: list[Problem] = field(default_factory=list)
    delimiters: Delimiters = STANDARD

    def file(self) -> BatchFile:
        fhs = self._take("FHS")
        header = self._header(fhs) if fhs else None
        batches = []
        # without an FHS only BHS opens a batch: an MSH after its BTS belongs to no batch
        while self._peek() == "BHS" or (self._peek() == "MSH" and fhs is not None):
            batches.append(self._batch())
        if fhs is not None:
            self._trailer("FTS", fhs, len(batches), "batches")
        elif self._peek() == "FTS":
            self._refuse(self.lines[self.pos], "FTS without the FHS that opens a file")
            self.pos += 1
        for line in self.lines[self.pos :]:
            self._refuse(line, f"{line.segment_id} after the end of the batch")
        return BatchFile(header=header, batches=tuple(batches), problems=tuple(self.problems))

    def _batch(self) -> Batch:
        bhs = self._take("BHS")
        header = self._header(bhs) if bhs else None
        messages = []
        while (next_id := self._peek()) is not None and next_id not in ENVELOPE:
            if next_id == "MSH":
                messages.append(self._message())
            else:
                self._refuse(self.lines[self.pos], f"{next_id} before the first MSH of the batch")
                self.pos += 1
        if bhs is not None or self._peek() == "BTS":
            self._trailer("BTS", bhs or self.lines[self.pos - 1], len(messages), "messages")
        return Batch(header=header, messages=tuple(messages))

    def _message(self) -> bytes:
        start = self.pos
        self.pos += 1
        while (next_id := self._peek()) is not None and next_id not in (*ENVELOPE, "MSH"):
            self.pos += 1
        return b"".join(line.raw for line in self.lines[start : self.pos])

    def _trailer(self, segment_id: str, opener: _Line, arrived: int, what: str) -> None:
        """The BTS/FTS that closes ``opener``; its count (BTS-1/FTS-1), when valued, must be what arrived."""
        trailer = self._take(segment_id)
        if trailer is None:
            unit = "file" if segment_id == "FTS" else "batch"
            self._refuse(opener, f"{opener.segment_id} without its {segment_id}: the {unit} may be cut short")
            return
        fields = trailer.text.split(self.delimiters.field)
        declared = fields[1].strip() if len(fields) > 1 else ""
        if declared and not declared.isdigit():
            self._refuse(trailer, f"{segment_id}-1 {declared!r} is not a count", code="102", field=1)
        elif declared and int(declared) != arrived:
            self._refuse(trailer, f"{segment_id}-1 says {int(declared)} {what}, {arrived} arrived", field=1)

    def _header(self, line: _Line) -> EnvelopeHeader:
        delims = _delimiters(line.text)
        if delims is None:
            self._refuse(line, f"{line.segment_id}-2 encoding characters are invalid", code="102", field=2)
            delims = STANDARD
        self.delimiters = delims
        fields = line.text.split(delims.field)
        seg = Hl7Segment(
            segment_id=line.segment_id,
            sequence=line.sequence,
            fields=(fields[0], delims.field, *fields[1:]),
            delimiters=delims,
        )
        return EnvelopeHeader(sending_application=_hd(seg, 3), sending_facility=_hd(seg, 4), control_id=seg.get(11))

    def _peek(self) -> str | None:
        return self.lines[self.pos].segment_id if self.pos < len(self.lines) else None

    def _take(self, segment_id: str) -> _Line | None:
        if self._peek() != segment_id:
            return None
        self.pos += 1
        return self.lines[self.pos - 1]

    def _refuse(self, line: _Line, text: str, *, code: str = "100", field: int | None = None) -> None:
        location = line.location if field is None else f"{line.location}^{field}"
        self.problems.append(Problem(code, f"batch envelope: {text}", location))


def _delimiters(text: str) -> Delimiters | None:
    """FHS/BHS-1 and -2 read as MSH-1 and -2 are (3 to 5 distinct encoding characters)."""
    if len(text) < 4 or text[3].isalnum() or text[3].isspace():
        return None
    sep = text[3]
    chars = text[4:].split(sep, 1)[0]
    if not 3 <= len(chars) <= 5 or len(set(chars + sep)) != len(chars) + 1:
        return None
    if any(c.isalnum() or c.isspace() for c in chars):
        return None
    esc, sub = ("", chars[2]) if len(chars) == 3 else (chars[2], chars[3])
    return Delimiters(field=sep, component=chars[0], repetition=chars[1], escape=esc, subcomponent=sub)


def _hd(seg: Hl7Segment, number: int) -> str:
    """An HD field's first repetition re-written in the standard delimiters, so it can be echoed."""
    first = seg.repetitions(number)[:1]
    if not first:
        return ""
    components = first[0].split(seg.delimiters.component)
    out = []
    for c, component in enumerate(components, start=1):
        subs = component.split(seg.delimiters.subcomponent)
        out.append("&".join(escape(seg.get(number, c, 1, s)) for s in range(1, len(subs) + 1)))
    return "^".join(out).rstrip("^")
