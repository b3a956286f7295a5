"""Application acknowledgements (HL7 enhanced mode, MSH-16): "your order was processed", after the fact.

The placer asked for one in its order message (MSH-16, table 0155); the hub sends it quoting the order
message's MSH-10 in MSA-2, in the structure that answers the order's (v2.5.1 Ch. 4A): RDE^O11 → RRE^O12,
OMP^O09 → ORP^O10, ORM^O01 → ORR^O02, and RDE^O01 (v2.3) → RRE^O02.

* AL or SU, once the order is recorded: MSA AA, ORC-1 OK (accepted) with our Rx number as filler number.
* AL or ER, when intake refused an order the commit ACK (CA) had accepted: MSA AE with an ERR (table 0357
  205 for a duplicate placer number) and ORC-1 UA (unable to accept, table 0119) naming the placer number,
  so the placer knows which order of its message was not kept.
"""

from __future__ import annotations

from adapters.hl7.outbound.er7_writer import components, leaf, segment
from adapters.hl7.outbound.message_inputs import MessageHeader, OrderRef
from adapters.hl7.outbound.order_segments import assemble, at_least, orc
from adapters.hl7.outbound.party_segments import pid
from hub.domain.order_parts import ReplyTo

#: (order type, trigger) → (answer type, trigger, structure)
RESPONSES: dict[tuple[str, str], tuple[str, str, str]] = {
    ("RDE", "O11"): ("RRE", "O12", "RRE_O12"),
    ("RDE", "O01"): ("RRE", "O02", "RRE_O02"),
    ("OMP", "O09"): ("ORP", "O10", "ORP_O10"),
    ("ORM", "O01"): ("ORR", "O02", "ORR_O02"),
}


#: table 0357 condition of each refusal code (``OrderRefused.code``); anything else is an internal error
CONDITIONS = {"duplicate-order": ("205", "Duplicate key identifier")}
_OTHER = ("207", "Application internal error")


def answers(reply: ReplyTo, *, success: bool) -> bool:
    """Whether MSH-16 asks for an application ACK of this outcome (table 0155: AL, NE, ER, SU).

    As at the door, an unknown value answers: a placer that asked for something gets an answer.
    """
    condition = reply.application_ack_type.upper()
    if condition == "NE":
        return False
    if condition in ("ER", "SU"):
        return condition == ("SU" if success else "ER")
    return True


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


def build_application_reject(
    header: MessageHeader, order: OrderRef, reply: ReplyTo, code: str, reason: str
) -> bytes | None:
    """MSA AE quoting the order message, an ERR saying why, and the order not accepted (ORC-1 UA)."""
    structure = response_structure(reply)
    if structure is None:
        return None
    answer, trigger, name = structure
    condition, meaning = CONDITIONS.get(code, _OTHER)
    if at_least(header.version, (2, 5)):  # ERR-3 the 0357 condition, ERR-4 severity, ERR-8 user message
        msa = segment("MSA", {1: "AE", 2: leaf(reply.control_id)})
        err = segment("ERR", {3: components(condition, meaning, "HL70357"), 4: "E", 8: leaf(reason)})
    else:  # MSA-3 text and MSA-6 condition; ERR-1 an ELD whose fourth component is the condition
        msa = segment(
            "MSA",
            {1: "AE", 2: leaf(reply.control_id), 3: leaf(reason[:80]), 6: components(condition, meaning, "HL70357")},
        )
        err = segment("ERR", {1: f"^^^{leaf(condition)}&{leaf(meaning)}&HL70357"})
    return assemble(header, answer, trigger, name, [msa, err, pid(order), orc(header, order, "UA", "")])
