"""RDE encoded orders for a hospital's MAR or dispensing cabinet, once a pharmacist verified the order.

RDE^O01 before v2.4, RDE^O11 after (v2.5.1 Ch. 4A.3.4).  ORC-1 NW for a new order; DC or CA stops an order
the cabinet holds.  The frequency goes in RXE-1's TQ interval before v2.5 and in TQ1-3 from v2.5, where
the ORDER group needs a TQ1 after RXE (RXE-1 is withdrawn from v2.7).
"""

from __future__ import annotations

from adapters.hl7.outbound.er7_writer import components, leaf, number, segment, timestamp
from adapters.hl7.outbound.message_inputs import EncodedOrder, MessageHeader
from adapters.hl7.outbound.order_segments import assemble, at_least, orc, patient_segments, rxc_segments, rxr
from adapters.hl7.outbound.party_segments import NULL, pharmacist_xcn
from hub.domain.compound import COMPOUND_PRODUCT_ID
from hub.domain.order_context import OrderContext


def encoded_order_structure(version: str) -> tuple[str, str, str]:
    """(message code, trigger, structure) of an encoded order in this version."""
    return ("RDE", "O11", "RDE_O11") if at_least(version, (2, 4)) else ("RDE", "O01", "RDE_O01")


def build_encoded_order(header: MessageHeader, order: EncodedOrder, *, allergies: bool = False) -> bytes:
    """The ER7 encoded order for one verified (or stopped) order."""
    code, trigger, structure = encoded_order_structure(header.version)
    context = order.order.context
    frequency = context.dosage.frequency if context and context.dosage else None
    timing = None
    if at_least(header.version, (2, 5)):
        # TQ1-1 (set id, optional) left out: one TQ1 per order, and hl7apy's v2.7 tables cannot read it
        timing = segment("TQ1", {3: leaf(frequency), 7: timestamp(order.verified_at)})
    route = order.order.drug.route if order.order.drug else None
    body: list[str | None] = [
        *patient_segments(order.order, allergies=allergies),
        orc(header, order.order, order.control, order.status),
        _rxe(header.version, order, frequency),
        timing,
        rxr(route or (context.drug.route if context else None)),
        *rxc_segments(context.drug.compound if context else None),
    ]
    return assemble(header, code, trigger, structure, body)


def give_code(ndc: str, context: OrderContext | None, text: str | None) -> str:
    """RXE-2 / RXD-2: the NDC with the product's name (the catalogue's, else the order's text)."""
    name = (context.product_name if context else None) or text or (context.drug.text if context else None)
    if ndc == COMPOUND_PRODUCT_ID:  # a compound has no NDC: its name only, never the hub's placeholder as one
        return components(None, name)
    return components(ndc, name, "NDC")


def _rxe(version: str, order: EncodedOrder, frequency: str | None) -> str:
    context = order.order.context
    dosage = context.dosage if context else None
    quantity = context.quantity if context else None
    text = order.order.drug.text if order.order.drug else None
    fields = {
        2: give_code(order.ndc, context, text),
        3: number(dosage.amount) if dosage and dosage.amount is not None else "",  # NM has no null
        5: components(dosage.unit) if dosage and dosage.unit else NULL,
        7: components(None, context.sig) if context and context.sig else "",
        10: number(quantity.value) if quantity else "",
        11: components(quantity.unit) if quantity and quantity.unit else "",
        14: pharmacist_xcn(order.pharmacist, version),
        15: leaf(order.order.rx_number),
        16: str(context.refills_remaining) if context and context.refills_remaining is not None else "",
    }
    if not at_least(version, (2, 7)):  # RXE-1 TQ: quantity 1 per administration ^ interval ^^ start
        fields[1] = components("1", frequency, None, timestamp(order.verified_at))
    return segment("RXE", fields)
