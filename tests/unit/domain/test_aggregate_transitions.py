"""Every aggregate step tried in every reachable state: allowed exactly where the transition table says."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

import pytest

from hub.domain.inventory import allocate
from hub.domain.order_parts import Setting
from hub.domain.prescription import Prescription
from hub.domain.states import TERMINAL_STATES, TRANSITIONS, Action, RxState
from hub.errors import IllegalTransition
from tests.unit.domain.builders import (
    CATALOGUE,
    LISINOPRIL,
    NOW,
    PHARMACIST,
    PHARMACY,
    SYSTEM,
    TECHNICIAN,
    context,
    reach,
    stock,
)

A, S = Action, RxState


@dataclass(frozen=True)
class Step:
    """An aggregate method, the table actions it may use, and the states it is limited to besides."""

    call: Callable[[Prescription], object]
    actions: frozenset[Action]
    only_from: frozenset[RxState] = field(default_factory=lambda: frozenset(RxState))


STEPS: dict[str, Step] = {
    # intake and product selection route by the order's data, through one of the routing actions
    "intake": Step(
        lambda rx: rx.intake(SYSTEM, NOW, context()),
        frozenset({A.HOLD_FOR_PRODUCT, A.SUBMIT_CLAIM, A.BILL_CASH, A.SKIP_CLAIM}),
        frozenset({S.RECEIVED}),
    ),
    "select_product": Step(
        lambda rx: rx.select_product(TECHNICIAN, NOW, CATALOGUE.by_ndc(LISINOPRIL), context()),  # type: ignore[arg-type]
        frozenset({A.SUBMIT_CLAIM, A.BILL_CASH, A.SKIP_CLAIM}),
        frozenset({S.NEEDS_PRODUCT}),
    ),
    "claim_paid": Step(
        lambda rx: rx.claim_paid(SYSTEM, NOW, total_paid=Decimal("10"), patient_pay=Decimal("2")),
        frozenset({A.CLAIM_PAID}),
    ),
    "claim_rejected": Step(
        lambda rx: rx.claim_rejected(SYSTEM, NOW, reject_codes=["70"]), frozenset({A.CLAIM_REJECTED})
    ),
    "resubmit_claim": Step(lambda rx: rx.resubmit_claim(TECHNICIAN, NOW), frozenset({A.RESUBMIT_CLAIM})),
    # BILL_CASH from RECEIVED/NEEDS_PRODUCT is intake's "no coverage" route, not this method's
    "bill_cash": Step(
        lambda rx: rx.bill_cash(TECHNICIAN, NOW), frozenset({A.BILL_CASH}), frozenset({S.CLAIM_REJECTED})
    ),
    "approve_data": Step(lambda rx: rx.approve_data_verification(PHARMACIST, NOW), frozenset({A.APPROVE_DATA})),
    "reject_data": Step(lambda rx: rx.reject_data_verification(PHARMACIST, NOW, "no"), frozenset({A.REJECT_DATA})),
    "complete_fill": Step(
        lambda rx: rx.complete_fill(
            TECHNICIAN, NOW, allocate(stock(), LISINOPRIL, Decimal("30"), NOW.date()), PHARMACY
        ),
        frozenset({A.COMPLETE_FILL}),
    ),
    "approve_product": Step(
        lambda rx: rx.approve_product_verification(PHARMACIST, NOW), frozenset({A.APPROVE_PRODUCT})
    ),
    "reject_product": Step(
        lambda rx: rx.reject_product_verification(PHARMACIST, NOW, "wrong count"),
        frozenset({A.REJECT_PRODUCT}),
    ),
    "dispense": Step(lambda rx: rx.dispense(TECHNICIAN, NOW), frozenset({A.DISPENSE})),
    "return_to_stock": Step(lambda rx: rx.return_to_stock(TECHNICIAN, NOW), frozenset({A.RETURN_TO_STOCK})),
    # cancel of a finished fill closes the prescription instead: see test_cancel_after_a_finished_fill
    "cancel": Step(
        lambda rx: rx.cancel(SYSTEM, NOW, "test"),
        frozenset({A.CANCEL}),
        frozenset(set(RxState) - TERMINAL_STATES),
    ),
}

REACHABLE = {
    Setting.OUTPATIENT: list(RxState),
    Setting.INPATIENT: [s for s in RxState if s not in (S.CLAIM_PENDING, S.CLAIM_REJECTED, S.RETURNED_TO_STOCK)],
}
CASES = [
    (setting, state, name)
    for setting, states in REACHABLE.items()
    for state in states
    for name in STEPS
    if not (name == "cancel" and state in TERMINAL_STATES)
]


def _targets(setting: Setting, state: RxState, step: Step) -> set[RxState]:
    if state not in step.only_from:
        return set()
    table = TRANSITIONS[setting]
    return {table[(state, a)] for a in step.actions if (state, a) in table}


@pytest.mark.parametrize(("setting", "state", "name"), CASES)
def test_step_is_allowed_exactly_where_the_table_allows_it(setting: Setting, state: RxState, name: str) -> None:
    rx = reach(state, setting)
    assert rx.state is state
    step = STEPS[name]
    targets = _targets(setting, state, step)
    if targets:
        step.call(rx)
        assert rx.state in targets
        assert rx.current_fill.history[-1].source is state
    else:
        before = rx.model_dump(mode="json")
        with pytest.raises(IllegalTransition):
            step.call(rx)
        assert rx.model_dump(mode="json") == before, "a refused step must not change the prescription"


def test_every_reachable_state_is_covered() -> None:
    assert {state for _, state, _ in CASES} == set(RxState)


@pytest.mark.parametrize("state", [S.DISPENSED, S.RETURNED_TO_STOCK])
def test_cancel_after_a_finished_fill_only_stops_refills(state: RxState) -> None:
    rx = reach(state)
    events = rx.cancel(SYSTEM, NOW, "discontinued")
    assert rx.state is state
    assert rx.closed_reason == "cancelled: discontinued"
    assert [e.name for e in events] == ["prescription.cancelled"]


@pytest.mark.parametrize("state", [S.CANCELLED, S.REJECTED])
def test_cancel_of_a_closed_prescription_is_illegal(state: RxState) -> None:
    rx = reach(state)
    with pytest.raises(IllegalTransition):
        rx.cancel(SYSTEM, NOW, "again")
