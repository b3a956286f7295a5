"""When the prescriber is asked to renew, and what the request says: one rule for every door's order.

Two moments call for it: a patient asks for a refill of a prescription with none left (always), and the last
refill is handed over (``RXHUB_RENEWAL_AT_LAST_REFILL``: the request reaches the prescriber before the patient
runs out). A closed prescription (cancelled, expired, transferred) is never renewed. The event names the door
the order came through, so each origin's adapter asks in its own standard.
"""

from __future__ import annotations

from hub.domain.events import RenewalRequested
from hub.domain.order_parts import QuantityInfo
from hub.domain.prescription import Prescription

#: why a renewal is asked for (``RenewalRequested.trigger``)
REFILL_REFUSED = "refill-refused"
LAST_REFILL_DISPENSED = "last-refill-dispensed"


def renewal_needed_on_refill(rx: Prescription) -> bool:
    """A refused refill asks for a renewal when none is left and the prescription is still open."""
    return rx.refills_remaining == 0 and rx.closed_reason is None


def renewal_needed_after_dispense(rx: Prescription) -> bool:
    """The fill just handed over was the last refill (a refill, not the original fill, and none left)."""
    return rx.current_fill.fill_number > 0 and rx.refills_remaining == 0 and rx.closed_reason is None


def renewal_request(rx: Prescription, trigger: str) -> RenewalRequested:
    """The event asking the prescriber to renew ``rx``."""
    fill_quantity = rx.current_fill.quantity
    return RenewalRequested(
        prescription_id=rx.prescription_id,
        rx_number=rx.rx_number,
        placer_order_number=rx.placer_order_number,
        placer_system=rx.placer_system,
        prescriber_npi=rx.prescriber.npi,
        drug=rx.drug,
        quantity=rx.quantity or (QuantityInfo(value=fill_quantity) if fill_quantity else None),
        source=rx.source.value,
        setting=rx.setting,
        trigger=trigger,
    )
