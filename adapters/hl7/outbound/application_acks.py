"""Application acknowledgements (HL7 enhanced mode, MSH-16): "your order was processed", after the fact.

The placer asked for one in its order message (MSH-16 AL or SU); the hub sends it once the order is recorded,
quoting the order message's MSH-10 in MSA-2. The structure answers the order's (v2.5.1 Ch. 4A):
RDE^O11 → RRE^O12, OMP^O09 → ORP^O10, ORM^O01 → ORR^O02, and RDE^O01 (v2.3) → RRE^O02.
"""

from __future__ import annotations

from adapters.hl7.outbound.er7_writer import segment
from adapters.hl7.outbound.message_inputs import MessageHeader, OrderRef
from adapters.hl7.outbound.order_segments import assemble, orc, pid
from hub.domain.order_parts import ReplyTo

#: (order type, trigger) → (answer type, trigger, structure)
RESPONSES: dict[tuple[str, str], tuple[str, str, str]] = {
    ("RDE", "O11"): ("RRE", "O12", "RRE_O12"),
    ("RDE", "O01"): ("RRE", "O02", "RRE_O02"),
    ("OMP", "O09"): ("ORP", "O10", "ORP_O10"),
    ("ORM", "O01"): ("ORR", "O02", "ORR_O02"),
}


def response_structure(reply: ReplyTo) -> tuple[str, str, str] | None:
    """The answering message type for the placer's order message, if it is one the hub takes."""
    return RESPONSES.get((reply.message_type, reply.trigger_event))


def build_application_ack(header: MessageHeader, order: OrderRef, reply: ReplyTo) -> bytes | None:
    """MSA AA quoting the order message, and the order as accepted (ORC-1 OK, our Rx number as filler)."""
    structure = response_structure(reply)
    if structure is None:
        return None
    code, trigger, name = structure
    msa = segment("MSA", {1: "AA", 2: reply.control_id})
    return assemble(header, code, trigger, name, [msa, pid(order), orc(header, order, "OK", "IP")])
