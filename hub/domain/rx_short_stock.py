"""Short stock on a fill: noted for the fill queue, and a person's choice of a partial fill or waiting."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from hub.domain.actors import Actor
from hub.domain.events import Event
from hub.domain.inventory import Allocation
from hub.domain.partial_fill import (
    SCHEDULE_II,
    PartialDecision,
    PartialFillRefused,
    RequestedBy,
    ShortStock,
    ShortStockChoice,
    ShortStockUndecided,
    check_total,
    require_hands_on,
)
from hub.domain.rx_intake import IntakeSteps
from hub.domain.states import RxState


class ShortStockSteps(IntakeSteps):
    """The fill queue's short-stock steps; ``complete_fill`` checks ``check_pick`` before it records a pick."""

    def note_short_stock(self, now: datetime, allocation: Allocation) -> list[Event]:
        """The shelf cannot cover the fill: it waits in the fill queue, showing what is short, for a choice."""
        fill = self.current_fill
        self._require_state(fill, RxState.FILLING, "note short stock of")
        fill.short_stock = ShortStock(available=allocation.allocated, needed=allocation.requested, at=now)
        return []

    def decide_short_stock(
        self,
        actor: Actor,
        now: datetime,
        choice: ShortStockChoice,
        reason: str,
        requested_by: RequestedBy = RequestedBy.PHARMACY,
    ) -> list[Event]:
        """A pharmacist or technician chooses a partial fill now or waiting for stock, and says why."""
        require_hands_on(actor)
        fill = self.current_fill
        self._require_state(fill, RxState.FILLING, "decide a partial fill of")
        if fill.short_stock is None:
            raise PartialFillRefused(f"fill {fill.fill_number} of Rx {self.rx_number} is not short of stock")
        fill.partial = PartialDecision(
            choice=choice, reason=reason, requested_by=requested_by, decided_by=actor.user_id, at=now
        )
        return []

    def check_pick(self, allocation: Allocation) -> None:
        """Refuse a short pick nobody chose, and (schedule II) one above the quantity prescribed."""
        fill = self.current_fill
        if allocation.partial and not fill.partial_chosen:
            raise ShortStockUndecided(
                f"{allocation.allocated} of {allocation.requested} in stock for Rx {self.rx_number}: "
                "a pharmacist or technician chooses a partial fill or waiting for stock"
            )
        if self.schedule == SCHEDULE_II:
            prescribed = self.quantity.value if self.quantity else None
            check_total(prescribed, Decimal("0"), allocation.allocated)
