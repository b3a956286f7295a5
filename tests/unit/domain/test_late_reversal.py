"""A reversal the payer approved late undoes the fill's paid claim: reversed, and back to be rebilled."""

from __future__ import annotations

import pytest

from hub.domain.claim import ClaimStatus
from hub.domain.states import RxState
from hub.domain.workflow_events import ClaimReversed
from hub.errors import IllegalTransition
from tests.unit.domain.builders import NOW, SYSTEM, TECHNICIAN, at_state


def test_before_filling_the_fill_goes_back_to_the_technician_to_rebill() -> None:
    rx = at_state(RxState.DATA_VERIFICATION)
    events = rx.claim_reversed_late(SYSTEM, NOW, fill_number=rx.current_fill.fill_number, authorization_number="A1")
    claim = rx.current_fill.claim
    assert claim is not None
    assert (rx.state, claim.status, claim.reject_codes) == (RxState.CLAIM_REJECTED, ClaimStatus.REVERSED, ["RV"])
    assert [type(e) for e in events] == [ClaimReversed]
    attempt = claim.attempt
    rx.resubmit_claim(TECHNICIAN, NOW)
    assert rx.state is RxState.CLAIM_PENDING and rx.current_fill.claim.attempt == attempt + 1  # type: ignore[union-attr]


def test_after_filling_the_claim_is_marked_reversed_where_the_fill_stands() -> None:
    rx = at_state(RxState.READY)
    rx.claim_reversed_late(SYSTEM, NOW, fill_number=rx.current_fill.fill_number)
    assert rx.state is RxState.READY
    assert rx.current_fill.claim is not None and rx.current_fill.claim.status is ClaimStatus.REVERSED


def test_only_a_paid_claim_can_be_undone() -> None:
    rx = at_state(RxState.CLAIM_PENDING)
    with pytest.raises(IllegalTransition):
        rx.claim_reversed_late(SYSTEM, NOW, fill_number=rx.current_fill.fill_number)
