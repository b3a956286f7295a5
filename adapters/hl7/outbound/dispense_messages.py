"""RDS dispense messages, one per fill (RDS^O01 before v2.4, RDS^O13 after; v2.5.1 Ch. 4A.3.5).

ORC-1 is RE (observations follow, the dispense record), ORC-5 CM for a complete fill and IP while a
partial fill leaves quantity owed.  RXD carries what left the pharmacy: NDC, quantity, Rx number, the
dispensing pharmacist, and each picked lot with its expiry as repetitions of RXD-18/RXD-19.
"""

from __future__ import annotations

from decimal import Decimal

from adapters.hl7.outbound.er7_writer import components, day, leaf, number, repeated, segment, timestamp
from adapters.hl7.outbound.message_inputs import Dispense, MessageHeader
from adapters.hl7.outbound.order_segments import assemble, at_least, orc, pid, rxr


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


def build_dispense(header: MessageHeader, dispense: Dispense) -> bytes:
    """The ER7 dispense message for one fill."""
    code, trigger, structure = dispense_structure(header.version)
    status = "" if dispense.owed is None else ("IP" if dispense.owed > 0 else "CM")
    body: list[str | None] = [
        pid(dispense.order),
        orc(header, dispense.order, "RE", status),
        _rxd(header.version, dispense),
        rxr(dispense.route),
    ]
    return assemble(header, code, trigger, structure, body)


def _rxd(version: str, dispense: Dispense) -> str:
    fields = {
        1: str(dispense.fill_number + 1),  # RXD-1 counts dispenses from 1; our fill 0 is the original
        2: components(dispense.ndc, dispense.order.drug.text if dispense.order.drug else None, "NDC"),
        3: timestamp(dispense.dispensed_at),
        4: number(dispense.quantity),
        5: components(dispense.unit),
        7: leaf(dispense.order.rx_number),
        8: "" if dispense.refills_remaining is None else str(dispense.refills_remaining),
        10: components(dispense.pharmacist_id) if dispense.pharmacist_id else "",
        18: repeated(*(leaf(p.lot) for p in dispense.picks)),
        19: repeated(*(day(p.expiry) for p in dispense.picks)),
    }
    if at_least(version, (2, 5)):  # RXD-33 dispense type exists from v2.5
        fields[33] = dispense_type(dispense.fill_number, dispense.owed)
    return segment("RXD", fields)
