"""Closing a partial fill whose rest will never be dispensed: the patient declined it, or its deadline passed.

Nothing is owed any more, and a refill is possible again. A payer that paid the part (343-HD P) is told the
truth the way pharmacies do it in NCPDP D.0: the P claim is reversed (B2) and, once the payer approved that,
what was dispensed is billed as a whole fill (B1, 343-HD not sent, 442-E7 the quantity dispensed) for the
same Rx, fill number and date of service. The B1 is answered on a fill already picked up, so its answer is
recorded on the claim without moving the fill.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from hub.domain.actors import Actor
from hub.domain.claim import Claim, ClaimStatus
from hub.domain.events import Event
from hub.domain.fill import Fill
from hub.domain.partial_events import PartialFillClosed
from hub.domain.partial_fill import PartialClosure, PartialFillRefused, require_hands_on
from hub.domain.rx_claims import ClaimLedger, _coverage_of
from hub.domain.rx_record import PrescriptionRecord
from hub.domain.states import RxState
from hub.domain.workflow_events import ClaimPaid, ClaimRejected


class PartialClose:
    """The part of a prescription that closes a partial fill and bills what was really dispensed."""

    def __init__(self, rx: PrescriptionRecord) -> None:
        self.rx = rx

    def close_refusal(self) -> str | None:
        """Why the current fill cannot be closed as a partial fill, or None when it can."""
        part = self.rx.current_fill
        if not part.completion_due:
            return f"fill {part.fill_number} of Rx {self.rx.rx_number} is not a picked-up partial fill with a rest owed"
        if part.dispensed_before:
            # every portion's P claim would need reversing and their sum billing whole: not done
            return f"fill {part.fill_number} of Rx {self.rx.rx_number} was dispensed in portions: it is not closed here"
        return None

    def close_partial(self, actor: Actor, now: datetime, reason: str) -> list[Event]:
        """A pharmacist or technician closes the picked-up partial fill: its rest is never dispensed."""
        require_hands_on(actor)
        refusal = self.close_refusal()
        if refusal is not None:
            raise PartialFillRefused(f"{refusal}: nothing to close")
        part = self.rx.current_fill
        part.closure = PartialClosure(reason=reason, closed_by=actor.user_id, at=now, owed_cancelled=part.owed)
        part.owed = Decimal("0")
        paid = part.claim
        rebilled = paid is not None and paid.bin is not None and paid.status is ClaimStatus.PAID
        closed = PartialFillClosed(
            **self.rx._event_fields(part),
            actor_id=actor.user_id,
            reason=reason,
            quantity_dispensed=part.quantity_dispensed or Decimal("0"),
            owed_cancelled=part.closure.owed_cancelled,
            rebilled=rebilled,
        )
        if not rebilled:  # cash or inpatient: no payer to tell
            return [closed]
        assert paid is not None
        reversal = ClaimLedger(self.rx)._reversal_required(part, paid, f"partial fill closed: {reason}")
        return [closed, reversal]

    def bill_dispensed(self, fill_number: int, now: datetime) -> list[Event]:
        """After the payer reversed a closed partial fill's P claim: bill what was dispensed as a whole fill."""
        fill = self.rx.fill(fill_number)
        reversed_claim, closure = fill.claim, fill.closure
        if closure is None or closure.billed_attempt is not None or reversed_claim is None:
            return []
        if reversed_claim.status is not ClaimStatus.REVERSED:
            return []
        ledger = ClaimLedger(self.rx)
        whole = ledger._new_claim(
            _coverage_of(reversed_claim), reversed_claim.submitted_at or now, reversed_claim.attempt + 1
        )
        whole.amount_requested = self._price(fill)
        whole.prior_auth_number, whole.dur_pps = reversed_claim.prior_auth_number, reversed_claim.dur_pps
        whole.clarification_codes = list(reversed_claim.clarification_codes)
        fill.closed_claim, fill.claim = reversed_claim, whole
        fill.closure = closure.model_copy(update={"billed_attempt": whole.attempt})
        return [ledger._claim_submitted(fill)]

    def answers_closing_claim(self, fill_number: int | None) -> bool:
        """True when the payer's answer is for the B1 of a closed partial fill (picked up: the fill stays put)."""
        fill = self.rx.fill(fill_number)
        closure, claim = fill.closure, fill.claim
        return (
            fill.state is RxState.DISPENSED
            and closure is not None
            and claim is not None
            and claim.attempt == closure.billed_attempt
        )

    def closing_claim_paid(
        self,
        now: datetime,
        fill_number: int | None,
        total_paid: Decimal | None,
        patient_pay: Decimal | None,
        authorization_number: str | None,
    ) -> list[Event]:
        """The payer paid the whole-fill B1 of what a closed partial fill dispensed."""
        fill = self.rx.fill(fill_number)
        claim = self._claim(fill)
        claim.status, claim.answered_at = ClaimStatus.PAID, now
        claim.total_paid, claim.patient_pay, claim.authorization_number = total_paid, patient_pay, authorization_number
        return [
            ClaimPaid(
                **self.rx._event_fields(fill),
                total_paid=total_paid,
                patient_pay=patient_pay,
                authorization_number=authorization_number,
            )
        ]

    def closing_claim_rejected(
        self, now: datetime, fill_number: int | None, reject_codes: list[str], payer_message: str | None
    ) -> list[Event]:
        """The payer rejected (or did not answer) that B1: recorded on the claim for a person to follow up."""
        fill = self.rx.fill(fill_number)
        claim = self._claim(fill)
        claim.status, claim.answered_at = ClaimStatus.REJECTED, now
        claim.reject_codes, claim.payer_message = list(reject_codes), payer_message
        return [
            ClaimRejected(
                **self.rx._event_fields(fill),
                reject_codes=tuple(reject_codes),
                payer_message=payer_message,
                attempt=claim.attempt,
            )
        ]

    @staticmethod
    def _claim(fill: Fill) -> Claim:
        assert fill.claim is not None
        return fill.claim

    def _price(self, fill: Fill) -> Decimal | None:
        """The usual price of what the closed partial fill dispensed."""
        product, quantity = self.rx.product, fill.quantity_dispensed or fill.quantity
        if product is None or quantity is None or not product.unit_price:
            return None
        return (product.unit_price * quantity).quantize(Decimal("0.01"))
