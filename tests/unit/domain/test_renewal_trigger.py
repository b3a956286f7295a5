"""When the prescriber is asked to renew (hub.domain.renewals): refused refill, last refill, never when closed."""

from __future__ import annotations

from datetime import timedelta

from hub.domain.renewals import (
    LAST_REFILL_DISPENSED,
    REFILL_REFUSED,
    renewal_needed_after_dispense,
    renewal_needed_on_refill,
    renewal_request,
)
from tests.unit.domain.builders import NOW, TECHNICIAN, received
from tests.unit.domain.test_refills import dispense_current


def test_only_the_last_refill_handed_over_calls_for_a_renewal() -> None:
    rx = received(refills=1)
    dispense_current(rx, NOW)
    assert not renewal_needed_after_dispense(rx), "the original fill: one refill is left"
    rx.request_refill(TECHNICIAN, NOW + timedelta(days=30))
    dispense_current(rx, NOW + timedelta(days=30))
    assert renewal_needed_after_dispense(rx) and renewal_needed_on_refill(rx)


def test_an_order_without_refills_is_renewed_when_a_refill_is_asked_for_not_at_its_first_fill() -> None:
    rx = received(refills=0)
    dispense_current(rx, NOW)
    assert not renewal_needed_after_dispense(rx)
    assert renewal_needed_on_refill(rx)


def test_a_closed_prescription_is_never_renewed() -> None:
    rx = received(refills=0)
    dispense_current(rx, NOW)
    rx.closed_reason = "cancelled"
    assert not renewal_needed_on_refill(rx) and not renewal_needed_after_dispense(rx)


def test_the_request_names_the_order_its_origin_and_why() -> None:
    rx = received(refills=1)
    dispense_current(rx, NOW)
    event = renewal_request(rx, LAST_REFILL_DISPENSED)
    assert (event.rx_number, event.placer_order_number, event.source, event.setting, event.trigger) == (
        rx.rx_number,
        rx.placer_order_number,
        rx.source.value,
        rx.setting,
        "last-refill-dispensed",
    )
    assert event.drug == rx.drug and event.quantity is not None
    assert renewal_request(rx, REFILL_REFUSED).trigger == "refill-refused"
