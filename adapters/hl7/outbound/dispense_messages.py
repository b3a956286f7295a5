"""RDS dispense messages, one per fill (RDS^O01 before v2.4, RDS^O13 after; v2.5.1 Ch. 4A.3.5).

ORC-1 is RE (observations follow, the dispense record), ORC-5 CM for a complete fill and IP while a
partial fill leaves quantity owed.  RXD carries what left the pharmacy: NDC and name, quantity in the
unit the order used, Rx number, refills remaining, the dispensing pharmacist as a person, and each picked
lot with its expiry as repetitions of RXD-18/RXD-19.  A partial fill says what is still owed in RXD-9
(dispense notes), besides RXD-33 P/Q and ORC-5 IP.
"""

from __future__ import annotations

from decimal import Decimal

from adapters.hl7.outbound.encoded_order_messages import give_code
from adapters.hl7.outbound.er7_writer import components, day, leaf, number, repeated, segment, timestamp
from adapters.hl7.outbound.message_inputs import Dispense, MessageHeader
from adapters.hl7.outbound.order_segments import assemble, at_least, orc, patient_segments, rxc_segments, rxr
from adapters.hl7.outbound.party_segments import pharmacist_xcn

#: package units (NCPDP 600-28) that say less than the order's own unit (TAB, CAP...)
_GENERIC_UNITS = frozenset({"EA", ""})


def dispense_structure(version: str) -> tuple[str, str, str]:
    """(message code, trigger, structure) of a dispense message in this version."""
    return ("RDS", "O13", "RDS_O13") if at_least(version, (2, 4)) else ("RDS", "O01", "RDS_O01")


def dispense_type(fill_number: int, owed: Decimal | None) -> str:
    """RXD-33 (table 0484): N/P new full/partial, R/Q refill full/partial; empty when owed is unknown."""
    if owed is None:
        return ""
    partial = owed > 0
    if fill_number == 0:
        return "P" if partial else "N"
    return "Q" if partial else "R"


def dispense_unit(dispense: Dispense) -> str:
    """The unit counted out: the order's (TAB, CAP) where the package only says EA, else the package's."""
    context = dispense.order.context
    ordered = context.quantity.unit if context and context.quantity else None
    return ordered if ordered and dispense.unit.upper() in _GENERIC_UNITS else dispense.unit


def build_dispense(header: MessageHeader, dispense: Dispense, *, allergies: bool = False) -> bytes:
    """The ER7 dispense message for one fill."""
    code, trigger, structure = dispense_structure(header.version)
    status = "" if dispense.owed is None else ("IP" if dispense.owed > 0 else "CM")
    context = dispense.order.context
    route = dispense.route or (context.drug.route if context else None)
    body: list[str | None] = [
        *patient_segments(dispense.order, allergies=allergies),
        orc(header, dispense.order, "RE", status),
        _rxd(header.version, dispense),
        rxr(route),
        *rxc_segments(context.drug.compound if context else None),
    ]
    return assemble(header, code, trigger, structure, body)


def owed_note(dispense: Dispense) -> str:
    """RXD-9 "Partial fill: dispensed 20 TAB, owed 10 TAB" when quantity is still owed; else empty."""
    if not dispense.owed:
        return ""
    unit = dispense_unit(dispense)
    return leaf(f"Partial fill: dispensed {number(dispense.quantity)} {unit}, owed {number(dispense.owed)} {unit}")


def _rxd(version: str, dispense: Dispense) -> str:
    context = dispense.order.context
    text = dispense.order.drug.text if dispense.order.drug else None
    refills = dispense.refills_remaining
    if refills is None and context is not None:
        refills = context.refills_remaining
    fields = {
        1: str(dispense.fill_number + 1),  # RXD-1 counts dispenses from 1; our fill 0 is the original
        2: give_code(dispense.ndc, context, text),
        3: timestamp(dispense.dispensed_at),
        4: number(dispense.quantity),
        5: components(dispense_unit(dispense)),
        7: leaf(dispense.order.rx_number),
        8: "" if refills is None else str(refills),
        9: owed_note(dispense),
        10: pharmacist_xcn(dispense.pharmacist, version),
        18: repeated(*(leaf(p.lot) for p in dispense.picks)),
        19: repeated(*(day(p.expiry) for p in dispense.picks)),
    }
    if at_least(version, (2, 5)):  # RXD-33 dispense type exists from v2.5
        fields[33] = dispense_type(dispense.fill_number, dispense.owed)
    return segment("RXD", fields)
