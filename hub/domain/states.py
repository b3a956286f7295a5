"""The life of one fill as explicit data: states, actions and the (state, action) -> state tables.

Retail and inpatient fills follow different tables; a pair missing from a table is an illegal transition
(standards §5.1). Aggregate methods look their move up here and never set a state any other way.
"""

from __future__ import annotations

from enum import StrEnum

from hub.domain.order_parts import Setting
from hub.errors import IllegalTransition


class RxState(StrEnum):
    """Where a fill is in the pharmacy workflow."""

    RECEIVED = "received"
    #: technician intake queue: the order names no product (NDC) we can dispense yet
    NEEDS_PRODUCT = "needs_product"
    #: B1 sent, awaiting the payer
    CLAIM_PENDING = "claim_pending"
    #: technician exception queue
    CLAIM_REJECTED = "claim_rejected"
    #: pharmacist data verification with DUR ("PV1")
    DATA_VERIFICATION = "data_verification"
    #: technician fill queue
    FILLING = "filling"
    #: pharmacist product verification ("PV2")
    PRODUCT_VERIFICATION = "product_verification"
    #: will-call bin (retail) or awaiting delivery to the unit (inpatient)
    READY = "ready"
    DISPENSED = "dispensed"
    RETURNED_TO_STOCK = "returned_to_stock"
    CANCELLED = "cancelled"
    #: pharmacist refused at data verification
    REJECTED = "rejected"


class Action(StrEnum):
    """A step that moves a fill from one state to another."""

    HOLD_FOR_PRODUCT = "hold_for_product"
    SUBMIT_CLAIM = "submit_claim"
    BILL_CASH = "bill_cash"
    #: inpatient orders are not billed per fill (facility claim), they go straight to the pharmacist
    SKIP_CLAIM = "skip_claim"
    CLAIM_PAID = "claim_paid"
    CLAIM_REJECTED = "claim_rejected"
    RESUBMIT_CLAIM = "resubmit_claim"
    #: a technician corrected a paid claim's data before filling: B3 rebill, the payer answers again
    REBILL_CLAIM = "rebill_claim"
    #: a partial fill of a fill whose claim was paid whole: billed again (B3) as 343-HD P for the part now
    REBILL_PARTIAL = "rebill_partial"
    #: a late reversal the payer approved undid the fill's paid claim: back to the technician to rebill
    PAYER_REVERSED = "payer_reversed"
    #: a fill returned to stock past its plan's window, its B2 answered, billed again (B1) for a patient who came
    #: for it after all: the one way out of RETURNED_TO_STOCK (``hub.domain.return_window``)
    REBILL_RETURNED = "rebill_returned"
    APPROVE_DATA = "approve_data"
    REJECT_DATA = "reject_data"
    COMPLETE_FILL = "complete_fill"
    APPROVE_PRODUCT = "approve_product"
    #: wrong product, count or label: back to the fill queue, the picked stock goes back to the shelf
    REJECT_PRODUCT = "reject_product"
    DISPENSE = "dispense"
    RETURN_TO_STOCK = "return_to_stock"
    CANCEL = "cancel"


S = RxState
A = Action

#: no longer in progress; only a fill returned to stock past its window leaves again, rebilled (REBILL_RETURNED)
TERMINAL_STATES: frozenset[RxState] = frozenset({S.DISPENSED, S.RETURNED_TO_STOCK, S.CANCELLED, S.REJECTED})

_CANCELLABLE = (
    S.RECEIVED,
    S.NEEDS_PRODUCT,
    S.CLAIM_PENDING,
    S.CLAIM_REJECTED,
    S.DATA_VERIFICATION,
    S.FILLING,
    S.PRODUCT_VERIFICATION,
    S.READY,
)

_SHARED: dict[tuple[RxState, Action], RxState] = {
    (S.RECEIVED, A.HOLD_FOR_PRODUCT): S.NEEDS_PRODUCT,
    (S.DATA_VERIFICATION, A.APPROVE_DATA): S.FILLING,
    (S.DATA_VERIFICATION, A.REJECT_DATA): S.REJECTED,
    (S.FILLING, A.COMPLETE_FILL): S.PRODUCT_VERIFICATION,
    (S.PRODUCT_VERIFICATION, A.APPROVE_PRODUCT): S.READY,
    (S.PRODUCT_VERIFICATION, A.REJECT_PRODUCT): S.FILLING,
    (S.READY, A.DISPENSE): S.DISPENSED,
    **{(state, A.CANCEL): S.CANCELLED for state in _CANCELLABLE},
}

RETAIL_TRANSITIONS: dict[tuple[RxState, Action], RxState] = {
    **_SHARED,
    (S.RECEIVED, A.SUBMIT_CLAIM): S.CLAIM_PENDING,
    (S.RECEIVED, A.BILL_CASH): S.DATA_VERIFICATION,
    (S.NEEDS_PRODUCT, A.SUBMIT_CLAIM): S.CLAIM_PENDING,
    (S.NEEDS_PRODUCT, A.BILL_CASH): S.DATA_VERIFICATION,
    (S.CLAIM_PENDING, A.CLAIM_PAID): S.DATA_VERIFICATION,
    (S.CLAIM_PENDING, A.CLAIM_REJECTED): S.CLAIM_REJECTED,
    (S.CLAIM_REJECTED, A.RESUBMIT_CLAIM): S.CLAIM_PENDING,
    (S.DATA_VERIFICATION, A.REBILL_CLAIM): S.CLAIM_PENDING,
    (S.FILLING, A.REBILL_PARTIAL): S.CLAIM_PENDING,
    (S.DATA_VERIFICATION, A.PAYER_REVERSED): S.CLAIM_REJECTED,
    (S.CLAIM_REJECTED, A.BILL_CASH): S.DATA_VERIFICATION,
    (S.READY, A.RETURN_TO_STOCK): S.RETURNED_TO_STOCK,
    (S.RETURNED_TO_STOCK, A.REBILL_RETURNED): S.CLAIM_PENDING,
}

INPATIENT_TRANSITIONS: dict[tuple[RxState, Action], RxState] = {
    **_SHARED,
    (S.RECEIVED, A.SKIP_CLAIM): S.DATA_VERIFICATION,
    (S.NEEDS_PRODUCT, A.SKIP_CLAIM): S.DATA_VERIFICATION,
}

TRANSITIONS: dict[Setting, dict[tuple[RxState, Action], RxState]] = {
    Setting.OUTPATIENT: RETAIL_TRANSITIONS,
    Setting.INPATIENT: INPATIENT_TRANSITIONS,
}


def next_state(setting: Setting, state: RxState, action: Action) -> RxState:
    """The state ``action`` leads to from ``state``; ``IllegalTransition`` if the table has no such move."""
    target = TRANSITIONS[setting].get((state, action))
    if target is None:
        raise IllegalTransition(state.value, action.value)
    return target


def allowed_actions(setting: Setting, state: RxState) -> list[Action]:
    """The actions the table allows from ``state`` (for work queues and UI buttons)."""
    return [action for (source, action) in TRANSITIONS[setting] if source == state]
