"""A prescriber's renewal answer: approval authorizes more fills, a denial changes nothing."""

from __future__ import annotations

from hub.domain.order_parts import DrugInfo
from tests.unit.domain import builders


def test_approval_adds_refills() -> None:
    rx = builders.received(refills=0)
    assert rx.apply_renewal("approved", 2, builders.NOW) is True
    assert (rx.refills_remaining, rx.refills_authorized) == (2, 2)


def test_denial_changes_nothing() -> None:
    rx = builders.received(refills=0)
    assert rx.apply_renewal("denied", None, builders.NOW) is False
    assert rx.refills_remaining == 0


def test_schedule_ii_is_never_renewed_by_refills() -> None:
    rx = builders.received(refills=0, drug=DrugInfo(ndc="00591040501", text="hydrocodone/APAP", schedule="2"))
    assert rx.apply_renewal("approved", 1, builders.NOW) is False
    assert rx.refills_remaining == 0
