"""Cut a pharmacy order message into its ORDER groups (v2.5.1 Ch. 4A: ORC starts each group).

RXO, RXE, RXR, TQ1, RXC, NTE, OBX... belong to the ORC before them; PID, PV1, AL1, IN1... are message-level
patient data wherever they appear.  An order-only segment before any ORC is a segment sequence error (100).
"""

from __future__ import annotations

from adapters.hl7.message_model import Hl7Segment, ParsedHl7
from hub.domain.order_parts import Frozen
from hub.errors import Problem

PATIENT_SEGMENTS = frozenset({"PID", "PD1", "PV1", "PV2", "AL1", "IN1", "IN2", "IN3", "GT1"})
#: segments that only make sense inside an ORDER group
ORDER_ONLY_SEGMENTS = frozenset({"RXO", "RXE", "RXR", "RXC", "TQ1", "TQ2", "RXD", "CDO"})
#: ORC-1 (table 0119) codes the hub acts on
NEW_ORDER = "NW"
CANCEL_CODES = frozenset({"CA", "DC"})


class OrderGroup(Frozen):
    """One ORC and the order segments that follow it."""

    orc: Hl7Segment
    segments: tuple[Hl7Segment, ...] = ()

    @property
    def control(self) -> str:
        """ORC-1 order control, upper case."""
        return self.orc.get(1).upper()

    @property
    def is_cancel(self) -> bool:
        """ORC-1 CA or DC: the group names an order rather than placing one."""
        return self.control in CANCEL_CODES

    def first(self, segment_id: str, after: Hl7Segment | None = None) -> Hl7Segment | None:
        """The first segment with this id in the group, optionally only after ``after``."""
        start = 0
        if after is not None:
            key = (after.segment_id, after.sequence)
            ids = [(s.segment_id, s.sequence) for s in self.segments]
            start = ids.index(key) + 1 if key in ids else len(ids)
        return next((s for s in self.segments[start:] if s.segment_id == segment_id), None)

    def all(self, segment_id: str) -> list[Hl7Segment]:
        """Every segment with this id in the group."""
        return [s for s in self.segments if s.segment_id == segment_id]


def split_orders(msg: ParsedHl7, problems: list[Problem]) -> list[OrderGroup]:
    """The message's ORDER groups; sequence problems are appended to ``problems``."""
    groups: list[tuple[Hl7Segment, list[Hl7Segment]]] = []
    for seg in msg.segments[1:]:
        if seg.segment_id == "ORC":
            groups.append((seg, []))
        elif seg.segment_id in PATIENT_SEGMENTS:
            continue
        elif groups:
            groups[-1][1].append(seg)
        elif seg.segment_id in ORDER_ONLY_SEGMENTS:
            problems.append(Problem("100", f"{seg.segment_id} before any ORC segment", seg.location()))
    if not groups:
        problems.append(Problem("100", "the message has no ORDER group (ORC segment)", "ORC^1"))
    return [OrderGroup(orc=orc, segments=tuple(rest)) for orc, rest in groups]
