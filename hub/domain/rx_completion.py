"""The rest of a partial fill: dispensed later as its own fill, with the partial fill's number.

When stock arrives, a pharmacist or technician starts the completion of a partial fill the patient has picked
up. It is a new fill with the same fill number (NCPDP 403-D3) carrying 343-HD C, the rest as its quantity
(442-E7) and the whole fill as intended (344-HF / 345-HG); it is billed to the payer that paid the part (or
charged as the part was), verified by the pharmacist, picked, labelled and picked up like any fill. Asking for
the rest is never a refill: a refill is refused while a rest is owed.

Schedule II keeps 21 CFR 1306.13: past the deadline (72 hours, 30 days after the date written when the
patient or prescriber asked for less, 60 days for a patient a pharmacist recorded as terminally ill or an LTCF
patient) the rest is not dispensable and a completion is refused; the total dispensed never exceeds the
quantity prescribed. Only for such a recorded patient (1306.13(b)) may the rest go in several portions: each
portion but the last is a partial fill again (343-HD P, naming the portion before it in 456-EN / 457-EP), the
last one the completion (C).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from hub.domain.actors import Actor
from hub.domain.claim import Claim, ClaimStatus
from hub.domain.events import Event
from hub.domain.fill import Fill
from hub.domain.order_parts import Setting
from hub.domain.partial_events import FillCompletionStarted
from hub.domain.partial_fill import (
    SCHEDULE_II,
    DispensingStatus,
    PartialFillRefused,
    check_completion,
    check_total,
    completion_deadline,
    days_for,
    require_hands_on,
)
from hub.domain.rx_claims import ClaimLedger, _coverage_of
from hub.domain.rx_record import PrescriptionRecord
from hub.domain.rx_short_stock import ShortStockPart
from hub.domain.states import Action, RxState


class Completion:
    """The completion part of a prescription: dispensing the rest of a partial fill."""

    def __init__(self, rx: PrescriptionRecord) -> None:
        self.rx = rx

    def completion_refusal(self, now: datetime, portion: Decimal | None = None) -> str | None:
        """Why the rest of the current fill (or ``portion`` of it) cannot be dispensed now, or None when it can."""
        try:
            self._check_portion(self._check_completion(now), portion)
        except PartialFillRefused as refused:
            return str(refused)
        return None

    def partial_facts(self, fill: Fill) -> dict[str, str | None] | None:
        """For work queues: a partial fill's or completion's status, whole intended, rest owed and (schedule II)
        the deadline for the rest; None for a whole fill."""
        if fill.dispensing_status is None:
            return None
        decision = fill.partial if fill.dispensing_status is DispensingStatus.PARTIAL else None
        deadline = completion_deadline(self.rx.schedule, decision, self.rx.written_date) if decision else None
        return {
            "dispensing_status": fill.dispensing_status.value,
            "quantity_intended": str(fill.quantity_intended) if fill.quantity_intended is not None else None,
            "owed": str(fill.owed),
            "complete_by": deadline.isoformat() if deadline else None,
        }

    def start_completion(self, actor: Actor, now: datetime, portion: Decimal | None = None) -> list[Event]:
        """A pharmacist or technician starts dispensing the rest of the partial fill the patient picked up, or
        (1306.13(b) only) ``portion`` of it: a partial fill again, with the rest still owed."""
        require_hands_on(actor)
        part = self._check_completion(now)
        quantity = self._check_portion(part, portion)
        assert part.quantity_intended is not None and part.quantity_dispensed is not None
        last = quantity == part.owed
        rest = Fill(
            fill_number=part.fill_number,
            created_at=now,
            quantity=quantity,
            days_supply=self._rest_days(part)
            if last
            else days_for(quantity, part.quantity_intended, part.days_supply_intended),
            ndc=part.ndc,
            dispensing_status=DispensingStatus.COMPLETION if last else DispensingStatus.PARTIAL,
            quantity_intended=part.quantity_intended,
            days_supply_intended=part.days_supply_intended,
            dispensed_before=part.dispensed_before + part.quantity_dispensed,
            # a later portion keeps the decision: its deadline and designation hold for the rest after it
            partial=None if last else part.partial,
        )
        self.rx.fills.append(rest)
        started = FillCompletionStarted(
            **self.rx._event_fields(rest),
            actor_id=actor.user_id,
            quantity=quantity,
            quantity_intended=part.quantity_intended,
            dispensed_before=rest.dispensed_before,
        )
        billed = self._bill_rest(rest, part.claim, actor, now)
        return [started.model_copy(update={"state": rest.state.value}), *billed]

    def _check_completion(self, now: datetime) -> Fill:
        """The partial fill whose rest may be dispensed now; ``PartialFillRefused`` says why not otherwise."""
        part = self.rx.current_fill
        if self.rx.closed_reason is not None:
            raise PartialFillRefused(f"Rx {self.rx.rx_number} is {self.rx.closed_reason}: its rest is not dispensed")
        if not part.completion_due or part.partial is None:
            raise PartialFillRefused(
                f"fill {part.fill_number} of Rx {self.rx.rx_number} is not a picked-up partial fill with a rest owed"
            )
        check_completion(self.rx.schedule, part.partial, self.rx.written_date, now)
        if self.rx.schedule == SCHEDULE_II:
            prescribed = self.rx.quantity.value if self.rx.quantity else None
            check_total(prescribed, self._dispensed_total(), part.owed)
        return part

    @staticmethod
    def _check_portion(part: Fill, portion: Decimal | None) -> Decimal:
        """The quantity to dispense now: the whole rest, or a portion of it for a 1306.13(b) patient."""
        if portion is None or portion == part.owed:
            return part.owed
        if portion <= 0 or portion > part.owed:
            raise PartialFillRefused(f"a portion of {portion} is not within the {part.owed} owed")
        if part.partial is None or part.partial.designation is None:
            raise PartialFillRefused(
                "the rest of a partial fill is dispensed whole: only for a patient a pharmacist recorded as "
                "terminally ill or an LTCF patient may it go in portions (21 CFR 1306.13(b))"
            )
        return portion

    def _dispensed_total(self) -> Decimal:
        handed = [f.quantity_dispensed or Decimal("0") for f in self.rx.fills if f.state is RxState.DISPENSED]
        return sum(handed, Decimal("0"))

    @staticmethod
    def _rest_days(part: Fill) -> int | None:
        """Days supply of the rest: what the whole was to last, less what was handed over (at least one day)."""
        whole, days = part.days_supply_intended, days_for(part.owed, part.quantity_intended, part.days_supply_intended)
        if whole is None or part.days_supply is None:
            return days
        if part.dispensed_before:  # after several portions: the days of everything handed over
            handed = part.dispensed_before + (part.quantity_dispensed or Decimal("0"))
            return max(1, whole - (days_for(handed, part.quantity_intended, whole) or 0))
        return max(1, whole - part.days_supply)

    def _bill_rest(self, rest: Fill, paid: Claim | None, actor: Actor, now: datetime) -> list[Event]:
        """As the part was: the same payer with 343-HD C (the next attempt), cash, or no claim (inpatient)."""
        if self.rx.setting is Setting.INPATIENT:
            self.rx._move(rest, Action.SKIP_CLAIM, actor, now)
            return []
        if paid is None or paid.bin is None or paid.status is not ClaimStatus.PAID:
            self.rx._move(rest, Action.BILL_CASH, actor, now, "the partial fill was not billed to a payer")
            rest.claim = Claim(
                status=ClaimStatus.CASH, amount_requested=ShortStockPart(self.rx)._price_of(rest), submitted_at=now
            )
            return []
        self.rx._move(rest, Action.SUBMIT_CLAIM, actor, now, "completion of a partial fill")
        rest.claim = ClaimLedger(self.rx)._new_claim(_coverage_of(paid), now, paid.attempt + 1)
        rest.claim.amount_requested = ShortStockPart(self.rx)._price_of(rest)
        # the part's prior authorization and DUR/PPS answers are the fill's: the rest needs them too
        rest.claim.prior_auth_number, rest.claim.dur_pps = paid.prior_auth_number, paid.dur_pps
        return [ClaimLedger(self.rx)._claim_submitted(rest)]
