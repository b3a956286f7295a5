"""Fast, tolerant ER7 parsing for the ACK path: bytes in, :class:`ParsedHl7` out, or one of our errors.

Our own splitter rather than hl7apy (~27 ms a message here) or python-hl7 (~1 ms, and it raises its own
errors on odd input).  Tolerated: a UTF-8 BOM, CR, LF, CRLF or mixed segment ends, blank lines, Z-segments,
``""`` nulls, escape sequences, MSH-2 with 3 to 5 encoding characters (v2.1 senders omit the escape char;
v2.7 adds the truncation char), and the MSH-18 character set.
"""

from __future__ import annotations

import re

from adapters.hl7.escaping import Delimiters, escape
from adapters.hl7.message_model import Hl7Header, Hl7Segment, ParsedHl7
from hub.errors import InboundMessageError, MessageContentError, Problem

_BOM = b"\xef\xbb\xbf"
_SEGMENT_ENDS = re.compile(r"\r\n|\n\r|\r|\n")
#: MSH-18 values (table 0211) whose byte encoding is ASCII-compatible, so MSH can be read before decoding
CHARSET_CODECS = {
    "ASCII": "ascii",
    "UNICODE UTF-8": "utf-8",
    "UTF-8": "utf-8",
    **{f"8859/{n}": f"iso8859_{n}" for n in (1, 2, 3, 4, 5, 6, 7, 8, 9, 15)},
}
#: MSH-18 character sets of Japanese senders, switched by ISO 2022 escapes (MSH-20 "ISO 2022-1994"); JAHIS and
#: SS-MIX2 declare ``~ISO IR87`` (ASCII default, JIS X 0208 alternate).  The whole message is decoded before it
#: is split, since the bytes of a JIS X 0208 character can be a delimiter's (0x7C, 0x5E...).  iso2022_jp_2
#: reads JIS X 0208 and 0212; iso2022_jp_ext also reads half-width katakana (ISO IR13).
_ISO2022_JP_SETS = frozenset({"ISO IR87", "ISO IR159", "ISO IR13"})
_ISO2022_JP_CODECS = ("iso2022_jp_2", "iso2022_jp_ext")


def parse_message(raw: bytes) -> ParsedHl7:
    """Read one ER7 message; raise only InboundMessageError subclasses, carrying MSH-10 when findable."""
    try:
        return _parse(raw)
    except InboundMessageError:
        raise
    except Exception as exc:  # the parser's contract: arbitrary bytes never escape as anything but ours
        raise MessageContentError(
            f"message could not be parsed: {exc}", [Problem("207", "Application internal error")]
        ) from exc


def _parse(raw: bytes) -> ParsedHl7:
    text = decode(raw)
    lines = [line for line in _SEGMENT_ENDS.split(text.lstrip()) if line.strip()]
    if not lines or not lines[0].startswith("MSH"):
        raise _unreadable(text, "100", "message does not start with an MSH segment", "MSH^1")
    delims = _delimiters(lines[0], text)
    segments = _segments(lines, delims)
    if any(seg.segment_id == "MSH" for seg in segments[1:]):
        # a second message in the frame would be read under the first one's header (its sender, its control
        # id): refused whole rather than half-taken; several messages travel as a batch (FHS/BHS)
        raise _unreadable(
            text,
            "100",
            "a second MSH in one message: send one message per MLLP frame, or "
            "several as an HL7 batch (FHS/BHS ... BTS/FTS)",
            "MSH^2",
        )
    return ParsedHl7(header=_header(segments[0]), segments=segments)


def decode(raw: bytes) -> str:
    """Bytes to text in the MSH-18 character set(s); undeclared or wrong: UTF-8, else Latin-1 (never fails)."""
    if raw.startswith(_BOM):
        raw = raw[len(_BOM) :]
    declared = _declared_charsets(raw)
    codecs: tuple[str | None, ...] = (CHARSET_CODECS.get(declared[0].upper()) if declared else None,)
    if _ISO2022_JP_SETS.intersection(c.upper() for c in declared):
        codecs = _ISO2022_JP_CODECS
    for candidate in (*codecs, "utf-8"):
        if candidate:
            try:
                return raw.decode(candidate)
            except UnicodeDecodeError:
                continue
    return raw.decode("latin-1")


def _declared_charsets(raw: bytes) -> list[str]:
    """MSH-18, every repetition's first component: the default character set, then the alternates."""
    msh = _SEGMENT_ENDS.split(raw.decode("latin-1"), maxsplit=1)[0].lstrip()
    if not msh.startswith("MSH") or len(msh) < 4:
        return []
    fields = msh.split(msh[3])
    value = fields[17] if len(fields) > 17 else ""
    return [rep.split("^")[0].strip() for rep in value.split("~")]


def _delimiters(msh: str, text: str) -> Delimiters:
    if len(msh) < 4 or msh[3].isalnum() or msh[3].isspace():
        raise _unreadable(text, "102", "MSH-1 field separator is missing or invalid", "MSH^1^1")
    sep = msh[3]
    chars = msh[4:].split(sep, 1)[0]
    usable = 3 <= len(chars) <= 5 and len(set(chars + sep)) == len(chars) + 1
    if not usable or any(c.isalnum() or c.isspace() for c in chars):
        raise _unreadable(text, "102", f"MSH-2 encoding characters {chars!r} are invalid", "MSH^1^2")
    # v2.1 senders that drop the escape character send component, repetition, subcomponent
    esc, sub = ("", chars[2]) if len(chars) == 3 else (chars[2], chars[3])
    return Delimiters(field=sep, component=chars[0], repetition=chars[1], escape=esc, subcomponent=sub)


def _segments(lines: list[str], delims: Delimiters) -> tuple[Hl7Segment, ...]:
    seen: dict[str, int] = {}
    out = []
    for line in lines:
        fields = line.split(delims.field)
        seg_id = fields[0].strip()
        if seg_id == "MSH":
            fields.insert(1, delims.field)
        seen[seg_id] = seen.get(seg_id, 0) + 1
        out.append(Hl7Segment(segment_id=seg_id, sequence=seen[seg_id], fields=tuple(fields), delimiters=delims))
    return tuple(out)


def _header(msh: Hl7Segment) -> Hl7Header:
    message_type, trigger = msh.get(9, 1), msh.get(9, 2)
    derived = f"{message_type}_{trigger}" if message_type and trigger else message_type
    return Hl7Header(
        sending_application=_canonical(msh, 3),
        sending_facility=_canonical(msh, 4),
        receiving_application=_canonical(msh, 5),
        receiving_facility=_canonical(msh, 6),
        message_datetime=msh.get(7),
        message_type=message_type,
        trigger_event=trigger,
        structure=msh.get(9, 3) or derived,
        control_id=msh.get(10),
        processing_id=msh.get(11),
        version=msh.get(12),
        accept_ack_type=msh.get(15),
        application_ack_type=msh.get(16),
        charset=msh.get(18),
        field_separator=msh.delimiters.field,
        encoding_characters=msh.raw(2),
    )


def _canonical(seg: Hl7Segment, field: int) -> str:
    """A first-repetition field re-written in the standard delimiters, so it can be echoed verbatim."""
    first = seg.repetitions(field)[:1]
    if not first:
        return ""
    n_components = first[0].count(seg.delimiters.component) + 1
    components = []
    for c in range(1, n_components + 1):
        n_subs = _component(first[0], seg.delimiters, c).count(seg.delimiters.subcomponent) + 1
        subs = [escape(seg.get(field, c, 1, s)) for s in range(1, n_subs + 1)]
        components.append("&".join(subs))
    return "^".join(components).rstrip("^")


def _component(value: str, delims: Delimiters, n: int) -> str:
    parts = value.split(delims.component)
    return parts[n - 1] if n <= len(parts) else ""


def _unreadable(text: str, code: str, message: str, location: str) -> MessageContentError:
    return MessageContentError(message, [Problem(code, message, location)], control_id=_scan_control_id(text))


def _scan_control_id(text: str) -> str:
    """Best effort MSH-10 from a message whose MSH could not be read, so the ACK can still echo MSA-2."""
    start = text.find("MSH")
    msh = _SEGMENT_ENDS.split(text[start:], maxsplit=1)[0] if start >= 0 else ""
    if len(msh) < 4:
        return ""
    fields = msh.split(msh[3])
    return fields[9].split("^")[0].strip() if len(fields) > 9 else ""
