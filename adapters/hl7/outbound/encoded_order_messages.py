"""RDE encoded orders for a hospital's MAR or dispensing cabinet, once a pharmacist verified the order.

RDE^O01 before v2.4, RDE^O11 after (v2.5.1 Ch. 4A.3.4); ORC-1 NW.  From v2.5 the ORDER group needs a TQ1
(timing) after RXE: ours carries the start time only, the schedule stays in the placer's order.
"""

from __future__ import annotations

from adapters.hl7.outbound.er7_writer import components, leaf, number, segment, timestamp
from adapters.hl7.outbound.message_inputs import EncodedOrder, MessageHeader
from adapters.hl7.outbound.order_segments import assemble, at_least, orc, pid, rxr


def encoded_order_structure(version: str) -> tuple[str, str, str]:
    """(message code, trigger, structure) of an encoded order in this version."""
    return ("RDE", "O11", "RDE_O11") if at_least(version, (2, 4)) else ("RDE", "O01", "RDE_O01")


def build_encoded_order(header: MessageHeader, order: EncodedOrder) -> bytes:
    """The ER7 encoded order for one verified order."""
    code, trigger, structure = encoded_order_structure(header.version)
    timing = segment("TQ1", {1: "1", 7: timestamp(order.verified_at)}) if at_least(header.version, (2, 5)) else None
    body: list[str | None] = [
        pid(order.order),
        orc(header, order.order, "NW", "IP"),
        _rxe(order),
        timing,
        rxr(order.route),
    ]
    return assemble(header, code, trigger, structure, body)


def _rxe(order: EncodedOrder) -> str:
    text = order.order.drug.text if order.order.drug else None
    return segment(
        "RXE",
        {
            2: components(order.ndc, text, "NDC"),
            3: number(order.give_amount) if order.give_amount is not None else "",
            5: components(order.give_unit),
            10: number(order.dispense_amount) if order.dispense_amount is not None else "",
            11: components(order.dispense_unit),
            14: components(order.verifier_id),
            15: leaf(order.order.rx_number),
        },
    )
