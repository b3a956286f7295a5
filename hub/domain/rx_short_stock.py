"""Short stock on a fill: noted for the fill queue, and a person's choice of a partial fill or waiting.

A partial fill dispenses what the shelf had when it was chosen: the fill's quantity becomes that part (D.0 442-E7)
and the whole is kept as intended (344-HF / 345-HG). A claim already paid for the whole is billed again as a B3
with 343-HD P before anything is picked, so the payer never pays for more than the patient takes home; the
payer's answer goes back to the pharmacist's data verification like any claim's.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from hub.domain.actors import Actor
from hub.domain.events import Event
from hub.domain.fill import Fill
from hub.domain.inventory import Allocation
from hub.domain.partial_events import FillPartiallyFilled
from hub.domain.partial_fill import (
    SCHEDULE_II,
    DispensingStatus,
    PartialDecision,
    PartialFillRefused,
    PatientDesignation,
    RequestedBy,
    ShortStock,
    ShortStockChoice,
    ShortStockUndecided,
    check_total,
    completion_deadline,
    days_for,
    require_designation_by_pharmacist,
    require_hands_on,
)
from hub.domain.rx_claims import ClaimLedger, _coverage_of
from hub.domain.rx_record import PrescriptionRecord
from hub.domain.states import Action, RxState
from hub.domain.workflow_events import ClaimSubmitted


class ShortStockPart:
    """The short-stock part of a prescription: what the fill queue shows, and a person's choice."""

    def __init__(self, rx: PrescriptionRecord) -> None:
        self.rx = rx

    def note_short_stock(self, now: datetime, allocation: Allocation) -> list[Event]:
        """The shelf cannot cover the fill: it waits in the fill queue, showing what is short, for a choice."""
        fill = self.rx.current_fill
        self.rx._require_state(fill, RxState.FILLING, "note short stock of")
        fill.short_stock = ShortStock(available=allocation.allocated, needed=allocation.requested, at=now)
        return []

    def decide_short_stock(
        self,
        actor: Actor,
        now: datetime,
        choice: ShortStockChoice,
        reason: str,
        requested_by: RequestedBy = RequestedBy.PHARMACY,
        designation: PatientDesignation | None = None,
    ) -> list[Event]:
        """A pharmacist or technician chooses a partial fill now or waiting for stock, and says why; only a
        pharmacist records a schedule II patient as terminally ill or an LTCF patient (1306.13(b))."""
        require_hands_on(actor)
        require_designation_by_pharmacist(actor, designation)
        fill = self.rx.current_fill
        if designation is not None and self.rx.schedule != SCHEDULE_II:
            raise PartialFillRefused(f"Rx {self.rx.rx_number} is not schedule II: 21 CFR 1306.13(b) does not apply")
        self.rx._require_state(fill, RxState.FILLING, "decide a partial fill of")
        if fill.short_stock is None:
            raise PartialFillRefused(f"fill {fill.fill_number} of Rx {self.rx.rx_number} is not short of stock")
        if choice is ShortStockChoice.PARTIAL and fill.dispensing_status is DispensingStatus.COMPLETION:
            raise PartialFillRefused(f"the rest of a partial fill of Rx {self.rx.rx_number} is dispensed whole: wait")
        if choice is ShortStockChoice.PARTIAL and fill.earlier_claims:
            # both payers' claims for the whole would need billing again; not done yet (docs/claims.md)
            raise PartialFillRefused(f"fill {fill.fill_number} of Rx {self.rx.rx_number} is billed to two payers: wait")
        fill.partial = PartialDecision(
            choice=choice,
            reason=reason,
            requested_by=requested_by,
            designation=designation,
            decided_by=actor.user_id,
            at=now,
        )
        return self._fill_part(actor, now) if choice is ShortStockChoice.PARTIAL else []

    def awaits_choice(self, allocation: Allocation) -> bool:
        """True when this pick is short and needs a person's choice first: nobody chose a partial fill, or the
        part chosen (and billed) is no longer on the shelf."""
        fill = self.rx.current_fill
        if not (allocation.partial and allocation.picks):
            return False
        return not fill.partial_chosen or fill.dispensing_status is not None

    def _fill_part(self, actor: Actor, now: datetime) -> list[Event]:
        """Make the fill the part on the shelf now, the whole kept as intended; bill it again if paid whole."""
        fill, short = self.rx.current_fill, self.rx.current_fill.short_stock
        assert short is not None and fill.partial is not None
        if fill.quantity_intended is None:  # a second partial choice keeps the first one's whole
            fill.quantity_intended, fill.days_supply_intended = fill.quantity, fill.days_supply
        fill.dispensing_status = DispensingStatus.PARTIAL
        fill.quantity = short.available
        fill.days_supply = days_for(short.available, fill.quantity_intended, fill.days_supply_intended)
        if not fill.claim_paid:
            return [self._partial_event(actor, rebilled=False)]
        billed = self._rebill_partial(actor, now)
        return [self._partial_event(actor, rebilled=True), billed]

    def _rebill_partial(self, actor: Actor, now: datetime) -> ClaimSubmitted:
        """B3 of the paid claim as 343-HD P: same payer and date of service (the payer matches the claim it
        replaces by them), the next attempt."""
        fill = self.rx.current_fill
        previous = fill.claim
        assert previous is not None
        self.rx._move(fill, Action.REBILL_PARTIAL, actor, now, "partial fill")
        fill.claim = ClaimLedger(self.rx)._new_claim(
            _coverage_of(previous), previous.submitted_at or now, previous.attempt + 1
        )
        fill.claim.rebill, fill.claim.amount_requested = True, self._price_of(fill)
        fill.claim.prior_auth_number, fill.claim.dur_pps = previous.prior_auth_number, previous.dur_pps
        fill.claim.clarification_codes = list(previous.clarification_codes)
        return ClaimLedger(self.rx)._claim_submitted(fill)

    def _price_of(self, fill: Fill) -> Decimal | None:
        """The usual price of what this fill dispenses (a part, or the rest of a partial fill)."""
        product = self.rx.product
        if product is None or fill.quantity is None or not product.unit_price:
            return None
        return (product.unit_price * fill.quantity).quantize(Decimal("0.01"))

    def _partial_event(self, actor: Actor, rebilled: bool) -> FillPartiallyFilled:
        fill, decision = self.rx.current_fill, self.rx.current_fill.partial
        assert decision is not None and fill.quantity is not None and fill.quantity_intended is not None
        return FillPartiallyFilled(
            **self.rx._event_fields(fill),
            actor_id=actor.user_id,
            quantity=fill.quantity,
            quantity_intended=fill.quantity_intended,
            days_supply=fill.days_supply,
            days_supply_intended=fill.days_supply_intended,
            reason=decision.reason,
            requested_by=decision.requested_by.value,
            designation=decision.designation.value if decision.designation else None,
            rebilled=rebilled,
            complete_by=completion_deadline(self.rx.schedule, decision, self.rx.written_date),
        )

    def check_pick(self, allocation: Allocation) -> None:
        """Refuse a short pick nobody chose, and (schedule II) one above the quantity prescribed."""
        fill = self.rx.current_fill
        if allocation.partial and (not fill.partial_chosen or fill.dispensing_status is not None):
            raise ShortStockUndecided(
                f"{allocation.allocated} of {allocation.requested} in stock for Rx {self.rx.rx_number}: "
                "a pharmacist or technician chooses a partial fill or waiting for stock"
            )
        if self.rx.schedule == SCHEDULE_II:
            prescribed = self.rx.quantity.value if self.rx.quantity else None
            check_total(prescribed, Decimal("0"), allocation.allocated)
