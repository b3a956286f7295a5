"""Order status updates to the placer: the filler's ORC-1 SC/OC/OD/OH/OE, and CR/DR answering its CA/DC.

Structure per version (the placer's own order message, sent back by the filler, v2.5.1 Ch. 4.5.1):

* v2.3 - v2.6: ORM^O01 with the patient, ORC and, when the dose is known, RXO (its ORDER_DETAIL is
  optional), the form EHRs accept most widely;
* v2.7 and later: ORM is withdrawn, so OMP^O09 with ORC, RXO (product and dose) and RXR.

An NTE after RXO names the fill the update is about ("Fill 2 (refill 2) of Rx 1000001"), since a refill's
status moves under the same placer and filler numbers as the original.

Acknowledgment-shaped messages (ORR^O02, ORP^O10, RRE^O12) are not used: their MSA-2 must name a message of
the placer's, which events do not carry.
"""

from __future__ import annotations

from adapters.hl7.outbound.er7_writer import components, leaf, number, segment
from adapters.hl7.outbound.message_inputs import STATUS_CODES, MessageHeader, OrderRef, StatusUpdate
from adapters.hl7.outbound.order_segments import assemble, at_least, drug_code, orc, patient_segments, rxr
from adapters.hl7.outbound.party_segments import NULL


def status_structure(version: str) -> tuple[str, str, str]:
    """(message code, trigger, structure) used for status updates in this version."""
    return ("OMP", "O09", "OMP_O09") if at_least(version, (2, 7)) else ("ORM", "O01", "ORM_O01")


def build_status_update(header: MessageHeader, update: StatusUpdate, *, allergies: bool = False) -> bytes:
    """The ER7 status update for one order."""
    control, status = STATUS_CODES[update.status]
    code, trigger, structure = status_structure(header.version)
    order = update.order
    body: list[str | None] = [
        *patient_segments(order, allergies=allergies),
        orc(header, order, control, status, reason=update.reason),
    ]
    dosage = order.context.dosage if order.context else None
    if code == "OMP" or (dosage is not None and dosage.amount is not None):  # ORM's RXO needs the dose (v2.3)
        body += [_rxo(order), _fill_note(order)]
    if code == "OMP":
        drug = order.drug or (order.context.drug if order.context else None)
        body.append(rxr(drug.route if drug else None))
    return assemble(header, code, trigger, structure, body)


def _rxo(order: OrderRef) -> str:
    """RXO-1 the product, RXO-2/4 one dose as ordered (the null when the order gave none)."""
    context = order.context
    dosage = context.dosage if context else None
    drug = order.drug or (context.drug if context else None)
    return segment(
        "RXO",
        {
            1: drug_code(drug) or NULL,
            2: number(dosage.amount) if dosage and dosage.amount is not None else "",  # NM has no null
            4: components(dosage.unit) if dosage and dosage.unit else NULL,
        },
    )


def _fill_note(order: OrderRef) -> str | None:
    if order.fill_number is None:
        return None
    which = "original fill" if order.fill_number == 0 else f"refill {order.fill_number}"
    rx = f" of Rx {order.rx_number}" if order.rx_number else ""
    return segment("NTE", {1: "1", 3: leaf(f"Fill {order.fill_number} ({which}){rx}")})
