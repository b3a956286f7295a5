"""Order status updates to the placer: the filler's unsolicited ORC-1 SC/OC/OD/OH/OE (table 0119).

Structure per version (the placer's own order message, sent back by the filler, v2.5.1 Ch. 4.5.1):

* v2.3 - v2.6: ORM^O01 with ORC only (its ORDER_DETAIL is optional), the form EHRs accept most widely;
* v2.7 and later: ORM is withdrawn, so OMP^O09 with ORC, RXO (product when known) and RXR.

Acknowledgment-shaped messages (ORR^O02, ORP^O10, RRE^O12) are not used: their MSA-2 must name a message
of the placer's, which events do not carry.
"""

from __future__ import annotations

from adapters.hl7.outbound.er7_writer import segment
from adapters.hl7.outbound.message_inputs import STATUS_CODES, MessageHeader, StatusUpdate
from adapters.hl7.outbound.order_segments import assemble, at_least, drug_code, orc, pid, rxr


def status_structure(version: str) -> tuple[str, str, str]:
    """(message code, trigger, structure) used for status updates in this version."""
    return ("OMP", "O09", "OMP_O09") if at_least(version, (2, 7)) else ("ORM", "O01", "ORM_O01")


def build_status_update(header: MessageHeader, update: StatusUpdate) -> bytes:
    """The ER7 status update for one order."""
    control, status = STATUS_CODES[update.status]
    code, trigger, structure = status_structure(header.version)
    body: list[str | None] = [pid(update.order), orc(header, update.order, control, status, reason=update.reason)]
    if code == "OMP":
        drug = update.order.drug
        body.append(segment("RXO", {1: drug_code(drug)}))
        body.append(rxr(drug.route if drug else None))
    return assemble(header, code, trigger, structure, body)
