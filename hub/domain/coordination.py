"""Coordination of benefits: which payer a fill is billed to next, and what the payers before it did.

A fill is billed to the patient's coverages in order, primary first. The next coverage is billed when the payer
before it paid and left the patient something to pay, or rejected because its plan does not cover the product
(``NEXT_PAYER_REJECTS``); the claim to it carries what the earlier payers paid or why they rejected
(D.0 AM05, with 308-C8). A fill moves on only once the last payer billed has answered; unsold, its claims are
reversed last payer first.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal

from hub.domain.claim import Claim, ClaimStatus
from hub.domain.claim_exchange import OtherPayment
from hub.domain.fill import Fill
from hub.domain.order_parts import CoverageInfo
from hub.domain.states import Action, RxState

#: 511-FB rejects after which the next coverage is billed (308-C8 = 3, the rejects in AM05 472-6E): the plan does
#: not cover the product, 70, or has it off its formulary, MR. Every other reject waits for a technician, because
#: the same coverage is still the one to bill: M/I data and 65 (patient not covered) or 41 (bill the other
#: payer first) mean the coverage on file is wrong or out of order and is corrected, not skipped; 75, 76, 79 and
#: 88 are answered to the same plan (prior auth, override, wait); 92, 99 and 85 are resent. A claim with any
#: such code among its rejects stays too (MR unverified against payer sheets).
NEXT_PAYER_REJECTS = frozenset({"70", "MR"})


def next_after_payment(others: Sequence[CoverageInfo], payer: int, patient_pay: Decimal | None) -> CoverageInfo | None:
    """The coverage to bill after payer number ``payer`` paid, or None: none left, or the patient owes nothing.

    ``others``: the coverages after the primary, in order; a claim to payer n is followed by ``others[n - 1]``.
    """
    return _following(others, payer) if (patient_pay or Decimal("0")) > 0 else None


def next_after_reject(others: Sequence[CoverageInfo], payer: int, reject_codes: Sequence[str]) -> CoverageInfo | None:
    """The coverage to bill after payer number ``payer`` rejected, when every reject code is one of
    ``NEXT_PAYER_REJECTS``; None otherwise, or when there is no coverage left."""
    passes = bool(reject_codes) and set(reject_codes) <= NEXT_PAYER_REJECTS
    return _following(others, payer) if passes else None


def _following(others: Sequence[CoverageInfo], payer: int) -> CoverageInfo | None:
    return others[payer - 1] if len(others) >= payer and others[payer - 1].bin else None


def claim_to_next_payer(answered: Claim, coverage: CoverageInfo, now: datetime) -> Claim:
    """The claim to the payer after ``answered``'s: a new attempt of the fill, billed now."""
    return Claim(
        status=ClaimStatus.SUBMITTED,
        payer=answered.payer + 1,
        bin=coverage.bin,
        pcn=coverage.pcn,
        group_id=coverage.group_id,
        cardholder_id=coverage.cardholder_id,
        person_code=coverage.person_code,
        amount_requested=answered.amount_requested,
        attempt=answered.attempt + 1,
        submitted_at=now,
    )


def other_payments(earlier: Sequence[Claim]) -> tuple[OtherPayment, ...]:
    """The AM05 sets of a claim to a later payer: each earlier payer's payment, or its rejects."""
    return tuple(_payment(claim) for claim in earlier if claim.bin)


def payments_before(fill: Fill, claim: Claim) -> tuple[OtherPayment, ...]:
    """What the payers billed before ``claim``'s did with the fill (none for a claim to the primary)."""
    return other_payments([c for c in fill.earlier_claims if c.payer < claim.payer])


def _payment(claim: Claim) -> OtherPayment:
    answered = claim.answered_at or claim.submitted_at
    assert claim.bin is not None and answered is not None
    paid = claim.status is not ClaimStatus.REJECTED
    return OtherPayment(
        sequence=claim.payer,
        bin=claim.bin,
        answered_on=answered.date(),
        amount_paid=(claim.total_paid or Decimal("0")) if paid else None,
        reject_codes=() if paid else tuple(claim.reject_codes),
    )


def first_claim_to_its_payer(fill: Fill) -> bool:
    """True when the fill's claim is the first sent to its payer: a claim left unanswered is resubmitted once per
    payer, the secondary's like the primary's (a secondary's first attempt follows the last earlier payer's), and
    the fresh B1 of a fill rebilled after its return-to-stock window like a first claim."""
    claim, earlier = fill.claim, fill.earlier_claims
    if claim is None:
        return False
    if earlier:
        return claim.attempt == earlier[-1].attempt + 1
    billed = [step.action for step in fill.history if step.target is RxState.CLAIM_PENDING]
    return claim.attempt == 1 or (bool(billed) and billed[-1] is Action.REBILL_RETURNED)


def claim_to_reverse(fill: Fill) -> Claim | None:
    """The claim an unsold fill reverses first: the last payer's when it paid (or may have), else the last
    earlier payer's that paid (a secondary that rejected or was resolved as cash leaves the primary paid)."""
    claim = fill.claim
    if claim is not None and claim.status in (ClaimStatus.PAID, ClaimStatus.SUBMITTED):
        return claim
    return reversal_after(fill)


def left_to_pay(fill: Fill) -> Decimal | None:
    """What the patient still owes after the last earlier payer that paid; None when none paid."""
    paid = [c for c in fill.earlier_claims if c.status is ClaimStatus.PAID]
    return paid[-1].patient_pay if paid else None


def reversal_after(fill: Fill) -> Claim | None:
    """The earlier payer's paid claim to reverse once the later payer's reversal is approved; None when none is."""
    paid = [c for c in fill.earlier_claims if c.status is ClaimStatus.PAID]
    return paid[-1] if paid else None
