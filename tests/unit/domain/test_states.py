"""The transition tables: every allowed and every forbidden (state, action) pair, per setting."""

from __future__ import annotations

import itertools

import pytest

from hub.domain.order_parts import Setting
from hub.domain.states import (
    INPATIENT_TRANSITIONS,
    RETAIL_TRANSITIONS,
    TERMINAL_STATES,
    TRANSITIONS,
    Action,
    RxState,
    allowed_actions,
    next_state,
)
from hub.errors import IllegalTransition

S, A = RxState, Action
ALL_PAIRS = list(itertools.product(Setting, RxState, Action))
ALLOWED = [(setting, s, a) for setting, s, a in ALL_PAIRS if (s, a) in TRANSITIONS[setting]]
FORBIDDEN = [(setting, s, a) for setting, s, a in ALL_PAIRS if (s, a) not in TRANSITIONS[setting]]


@pytest.mark.parametrize(("setting", "state", "action"), ALLOWED)
def test_every_allowed_transition_leads_where_the_table_says(setting: Setting, state: RxState, action: Action) -> None:
    assert next_state(setting, state, action) is TRANSITIONS[setting][(state, action)]


@pytest.mark.parametrize(("setting", "state", "action"), FORBIDDEN)
def test_every_forbidden_transition_raises(setting: Setting, state: RxState, action: Action) -> None:
    with pytest.raises(IllegalTransition) as info:
        next_state(setting, state, action)
    assert (info.value.current, info.value.action) == (state.value, action.value)


def test_the_enumeration_covers_every_pair() -> None:
    assert len(ALLOWED) + len(FORBIDDEN) == len(Setting) * len(RxState) * len(Action)
    assert len(ALLOWED) == len(RETAIL_TRANSITIONS) + len(INPATIENT_TRANSITIONS)


def test_terminal_states_have_no_way_out_but_the_rebill_of_a_returned_fill() -> None:
    for setting in Setting:
        for state in TERMINAL_STATES:
            rebill = setting is Setting.OUTPATIENT and state is S.RETURNED_TO_STOCK
            assert allowed_actions(setting, state) == ([A.REBILL_RETURNED] if rebill else [])
    assert next_state(Setting.OUTPATIENT, S.RETURNED_TO_STOCK, A.REBILL_RETURNED) is S.CLAIM_PENDING


@pytest.mark.parametrize("setting", list(Setting))
def test_cancel_is_possible_from_every_state_before_dispensed(setting: Setting) -> None:
    for state in set(RxState) - TERMINAL_STATES:
        if state in (S.CLAIM_PENDING, S.CLAIM_REJECTED) and setting is Setting.INPATIENT:
            continue
        assert next_state(setting, state, A.CANCEL) is S.CANCELLED


def test_retail_main_path() -> None:
    path = [
        (A.SUBMIT_CLAIM, S.CLAIM_PENDING),
        (A.CLAIM_PAID, S.DATA_VERIFICATION),
        (A.APPROVE_DATA, S.FILLING),
        (A.COMPLETE_FILL, S.PRODUCT_VERIFICATION),
        (A.APPROVE_PRODUCT, S.READY),
        (A.DISPENSE, S.DISPENSED),
    ]
    state = S.RECEIVED
    for action, expected in path:
        state = next_state(Setting.OUTPATIENT, state, action)
        assert state is expected


def test_inpatient_has_no_claim_and_no_return_to_stock() -> None:
    claim_actions = {
        A.SUBMIT_CLAIM,
        A.CLAIM_PAID,
        A.CLAIM_REJECTED,
        A.RESUBMIT_CLAIM,
        A.BILL_CASH,
        A.RETURN_TO_STOCK,
    }
    assert not {a for (_, a) in INPATIENT_TRANSITIONS} & claim_actions
    assert next_state(Setting.INPATIENT, S.RECEIVED, A.SKIP_CLAIM) is S.DATA_VERIFICATION
    assert (S.RECEIVED, A.SKIP_CLAIM) not in RETAIL_TRANSITIONS


def test_claim_exception_queue_resolutions() -> None:
    assert next_state(Setting.OUTPATIENT, S.CLAIM_REJECTED, A.RESUBMIT_CLAIM) is S.CLAIM_PENDING
    assert next_state(Setting.OUTPATIENT, S.CLAIM_REJECTED, A.BILL_CASH) is S.DATA_VERIFICATION
    assert next_state(Setting.OUTPATIENT, S.CLAIM_REJECTED, A.CANCEL) is S.CANCELLED


def test_product_rejection_goes_back_to_filling() -> None:
    for setting in Setting:
        assert next_state(setting, S.PRODUCT_VERIFICATION, A.REJECT_PRODUCT) is S.FILLING
