"""Orders the pharmacy hub does not take, refused at the door before anything is mapped.

* **Not a pharmacy order.**  An ORDER group whose detail is an OBR (lab, radiology), RQD/RQ1 (supplies) or
  ODS/ODT (diet) and which carries no RXO or RXE is some other department's order; read as a pharmacy order,
  an OBR cancel became a cancel of a prescription the hub never held.  The message is refused with AR and one
  ERR per such group at that segment, 0357 code 200 (unsupported message type: ORM^O01 is ours, an ORM^O01 for
  diagnostic services is not).  A message that mixes pharmacy and other orders is refused whole: an ACK
  answers a message, not a group, and AA would promise the other orders too.
* **IV admixtures.**  A new order with RXC components (base and additives), RXE-44 pharmacy
  order type S or O (IV large-volume solution, piggyback; table 0480) or an RXE-23 give rate is an infusion
  the hub cannot yet carry: it has no place for components or a rate, and "1 BAG" of the first code is not
  the order.  It is refused with AE, one ERR per such group at its first RXC (else RXE-44, else RXE-23), so
  the sender routes it to a system that prepares them.  0357 has no code for "content this receiver does not
  take"; 200 is the closest, sent with AE because resending the same order will not help.  Cancels are not
  checked: an order stored before this rule can still be cancelled.  RXO-21 (requested give rate) is not read.
  A compound given by a non-parenteral route (a cream, a mouthwash: ``compound_fields``) is taken.
"""

from __future__ import annotations

from collections.abc import Sequence

from adapters.hl7.compound_fields import is_non_iv_compound
from adapters.hl7.order_groups import OrderGroup
from hub.errors import Problem, UnsupportedMessageError

PHARMACY_DETAIL = frozenset({"RXO", "RXE"})
#: ORDER_DETAIL choices of ORM^O01 (v2.3-2.5 Ch. 4.4.1) that are not pharmacy orders
OTHER_DETAIL = {
    "OBR": "observation or diagnostic service",
    "RQD": "supply requisition",
    "RQ1": "supply requisition",
    "ODS": "dietary",
    "ODT": "diet tray",
}
#: RXE-44 (table 0480) codes for IV solution orders; M (medication) and empty are ordinary orders
IV_ORDER_TYPES = frozenset({"S", "O"})
UNSUPPORTED = "200"


def refuse_other_orders(groups: Sequence[OrderGroup], control_id: str) -> None:
    """Raise UnsupportedMessageError (AR) when any ORDER group is not a pharmacy order."""
    problems = [problem for index, group in enumerate(groups, 1) if (problem := _other_order(index, group))]
    if problems:
        text = "; ".join(p.text for p in problems)
        raise UnsupportedMessageError(text, problems, control_id=control_id)


def _other_order(index: int, group: OrderGroup) -> Problem | None:
    if any(s.segment_id in PHARMACY_DETAIL for s in group.segments):
        return None
    other = next((s for s in group.segments if s.segment_id in OTHER_DETAIL), None)
    if other is None:
        return None
    text = (
        f"ORDER group {index} is not a pharmacy order ({other.segment_id}: {OTHER_DETAIL[other.segment_id]}, "
        "no RXO/RXE): this hub takes pharmacy orders only"
    )
    return Problem(UNSUPPORTED, text, other.location())


def admixture_problems(groups: Sequence[OrderGroup]) -> list[Problem]:
    """One AE problem per new order that is an IV admixture, compound or rate-based infusion."""
    return [problem for group in groups if (problem := _admixture(group)) and not group.is_cancel]


def _admixture(group: OrderGroup) -> Problem | None:
    rxc, rxe = group.first("RXC"), group.first("RXE")
    if rxc is not None and not is_non_iv_compound(group):
        what, where = "an IV admixture or compound (RXC components)", rxc.location()
    elif rxe is not None and rxe.raw(44) and rxe.get(44).upper() in IV_ORDER_TYPES:
        what, where = f"an IV solution order (RXE-44 {rxe.get(44)})", rxe.location(44)
    elif rxe is not None and rxe.raw(23) and rxe.get(23):
        rate = " ".join(v for v in (rxe.get(23), rxe.get(24)) if v)
        what, where = f"an infusion at a rate (RXE-23 {rate})", rxe.location(23)
    else:
        return None
    text = (
        f"order {group.orc.get(2)} is {what}: this hub does not take IV admixtures, compounds or infusion "
        "rates yet; send this order to a system that prepares them"
    )
    return Problem(UNSUPPORTED, text, where)
