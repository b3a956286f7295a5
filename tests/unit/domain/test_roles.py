"""Pharmacist-only steps refuse every other role (standards §5.2)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from hub.domain.actors import Actor, Role, require_pharmacist
from hub.domain.order_parts import Source
from hub.domain.prescription import Prescription
from hub.domain.states import RxState
from hub.errors import NotAuthorized
from tests.unit.domain.builders import (
    ADMIN,
    NOW,
    PHARMACIST,
    PRESCRIBER,
    SYSTEM,
    TECHNICIAN,
    context,
    reach,
    received,
)

UNLICENSED = Actor(user_id="rph-2", role=Role.PHARMACIST, name="No Licence")
NOT_PHARMACISTS = [TECHNICIAN, ADMIN, SYSTEM, UNLICENSED]

PHARMACIST_STEPS: dict[str, tuple[RxState, Callable[[Prescription, Actor], object]]] = {
    "approve data verification": (
        RxState.DATA_VERIFICATION,
        lambda rx, a: rx.approve_data_verification(a, NOW),
    ),
    "reject data verification": (
        RxState.DATA_VERIFICATION,
        lambda rx, a: rx.reject_data_verification(a, NOW, "x"),
    ),
    "approve product verification": (
        RxState.PRODUCT_VERIFICATION,
        lambda rx, a: rx.approve_product_verification(a, NOW),
    ),
    "reject product verification": (
        RxState.PRODUCT_VERIFICATION,
        lambda rx, a: rx.reject_product_verification(a, NOW, "x"),
    ),
}


@pytest.mark.parametrize("actor", NOT_PHARMACISTS, ids=lambda a: a.user_id)
@pytest.mark.parametrize("step", list(PHARMACIST_STEPS))
def test_only_a_licensed_pharmacist_may_verify(step: str, actor: Actor) -> None:
    state, call = PHARMACIST_STEPS[step]
    rx = reach(state)
    with pytest.raises(NotAuthorized):
        call(rx, actor)
    assert rx.state is state
    call(rx, PHARMACIST)
    assert rx.state is not state


@pytest.mark.parametrize("actor", NOT_PHARMACISTS, ids=lambda a: a.user_id)
def test_only_a_pharmacist_may_override_an_alert(actor: Actor) -> None:
    rx = received(prescriber=PRESCRIBER.info.model_copy(update={"npi": "1234567890"}))
    rx.intake(SYSTEM, NOW, context())
    (alert,) = [a for a in rx.alerts if a.blocking]
    with pytest.raises(NotAuthorized):
        rx.override_alert(actor, NOW, alert.alert_id, "called the prescriber")
    rx.override_alert(PHARMACIST, NOW, alert.alert_id, "called the prescriber")
    override = rx.alerts[0].override
    assert override is not None and (override.by, override.licence) == ("rph-1", "RPH-0001")


@pytest.mark.parametrize("actor", NOT_PHARMACISTS, ids=lambda a: a.user_id)
def test_only_a_pharmacist_may_record_a_verbal_order(actor: Actor) -> None:
    with pytest.raises(NotAuthorized):
        received(source=Source.VERBAL, actor=actor)
    rx = received(source=Source.VERBAL, actor=PHARMACIST)
    assert (rx.verbal_taken_by, rx.verbal_licence) == ("rph-1", "RPH-0001")


def test_a_verbal_order_is_recorded_only_by_the_pharmacist_who_took_it() -> None:
    with pytest.raises(NotAuthorized, match="taken by rph-9"):
        received(source=Source.VERBAL, actor=PHARMACIST, taken_by="rph-9")
    assert received(source=Source.VERBAL, actor=PHARMACIST, taken_by="rph-1").verbal_taken_by == "rph-1"
    assert received(actor=SYSTEM).verbal_licence is None


def test_technician_may_do_the_technician_steps() -> None:
    rx = reach(RxState.READY)
    rx.dispense(TECHNICIAN, NOW)
    assert rx.state is RxState.DISPENSED


def test_require_pharmacist_message_names_the_actor_and_role() -> None:
    with pytest.raises(NotAuthorized, match="tech-1 is a technician"):
        require_pharmacist(TECHNICIAN, "approve")
