"""Judging an ACK against the message we sent: only an MSA-2 equal to our MSH-10 may settle it.

A frame that cannot be read, has no MSA or names another control id is STRAY: a late answer to an
earlier message or noise, to be logged and skipped, never matched to the message in flight
(what-users-ask.md §A, Mirth issues 1441/2070).  MSA-1 (table 0008): AA/CA accepted, AE/CE content error
(resending the same bytes cannot help), AR/CR rejected for now (resend later); anything else is read as a
reject, the safe side of an answer we do not understand.
"""

from __future__ import annotations

from enum import StrEnum

from adapters.hl7.message_model import Hl7Segment, ParsedHl7
from adapters.hl7.parsing import parse_message
from hub.domain.order_parts import Frozen
from hub.errors import InboundMessageError


class AckKind(StrEnum):
    """What an answer means for the message in flight."""

    ACCEPTED = "accepted"
    ERROR = "error"
    REJECTED = "rejected"
    STRAY = "stray"


class AckVerdict(Frozen):
    """The reading of one frame: its kind, MSA-1, MSA-2 and the receiver's error text."""

    kind: AckKind
    code: str = ""
    control_id: str = ""
    text: str = ""


_KINDS = {"AA": AckKind.ACCEPTED, "CA": AckKind.ACCEPTED, "AE": AckKind.ERROR, "CE": AckKind.ERROR}


def read_ack(frame: bytes, expected_control_id: str) -> AckVerdict:
    """Judge one received frame as the answer to the message whose MSH-10 is ``expected_control_id``."""
    try:
        parsed = parse_message(frame)
    except InboundMessageError as exc:
        return AckVerdict(kind=AckKind.STRAY, text=f"unreadable frame: {exc}")
    msa = parsed.first("MSA")
    if msa is None:
        return AckVerdict(kind=AckKind.STRAY, control_id=parsed.header.control_id, text="frame has no MSA")
    code, acked = msa.get(1).strip().upper(), msa.get(2).strip()
    if acked != expected_control_id:
        text = f"MSA-2 {acked!r} does not match the message in flight {expected_control_id!r}"
        return AckVerdict(kind=AckKind.STRAY, code=code, control_id=acked, text=text)
    kind = _KINDS.get(code, AckKind.REJECTED)
    text = "" if kind is AckKind.ACCEPTED else error_text(parsed)
    return AckVerdict(kind=kind, code=code, control_id=acked, text=text)


def error_text(ack: ParsedHl7) -> str:
    """The receiver's own words: each ERR (v2.5 ERR-8/7/3/2, or v2.3-2.4 ERR-1 ELD), else MSA-3."""
    parts = [_describe(err) for err in ack.all("ERR")]
    parts = [p for p in parts if p]
    msa = ack.first("MSA")
    if not parts and msa is not None and msa.get(3):
        parts.append(msa.get(3))
    return "; ".join(parts)[:1000]


def _describe(err: Hl7Segment) -> str:
    if err.raw(2) or err.raw(3):  # v2.5 and later
        location = "^".join(p for p in (err.get(2, 1), err.get(2, 2), err.get(2, 3)) if p)
        words = err.get(8) or err.get(7) or err.get(3, 2)
        code = err.get(3, 1)
        return " ".join(p for p in (location, f"[{code}]" if code else "", words) if p)
    # before v2.5: ERR-1 repeats ELD seg^seq^field^code&text&system
    elds = [err.get(1, 4, rep, 2) or err.get(1, 4, rep, 1) for rep in range(1, len(err.repetitions(1)) + 1)]
    return "; ".join(e for e in elds if e)
