"""The rebill part of a prescription: a fill returned to stock past its plan's window, billed again (a fresh B1)
for a patient who came for it after all (``hub.domain.return_window``)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from hub.domain.actors import Actor
from hub.domain.events import Event
from hub.domain.return_window import RebillRefused, rebill_refusal
from hub.domain.rx_claims import ClaimLedger, _coverage_of
from hub.domain.rx_record import PrescriptionRecord
from hub.domain.states import Action


class ReturnedFillRebill:
    """Bills a returned fill again: the same fill number, a new date of service, the primary payer first."""

    def __init__(self, rx: PrescriptionRecord) -> None:
        self.rx = rx

    def refusal(self, now: datetime, days: float) -> str | None:
        """Why the current fill may not be rebilled now (``days``: its plan's window), or None."""
        fill = self.rx.current_fill
        found = rebill_refusal(fill, now, days)
        if found is not None:
            return found
        if self.rx.closed_reason is not None:
            return f"prescription {self.rx.closed_reason}: its fill is not rebilled"
        if now.date() > self.rx.expires_on:
            return f"prescription expired on {self.rx.expires_on.isoformat()}: a new prescription is needed"
        # the return gave the fill's refill back; billing the fill again takes it once more
        if fill.fill_number > 0 and self.rx.refills_remaining <= 0:
            return "no refills remaining: the refill this fill gave back when returned was used since"
        return None

    def rebill(self, actor: Actor, now: datetime, days: float) -> list[Event]:
        """A fresh B1 to the payer billed first, its earlier claims (all reversed) left to the claim ledger; the
        stock the fill held went back to the shelf, so it is picked again once paid and verified."""
        refused = self.refusal(now, days)
        if refused is not None:
            raise RebillRefused(refused)
        fill = self.rx.current_fill
        claims = [c for c in (*fill.earlier_claims, fill.claim) if c is not None]
        self.rx._move(fill, Action.REBILL_RETURNED, actor, now)
        if fill.fill_number > 0:
            self.rx.refills_remaining -= 1
        fill.picks, fill.label, fill.quantity_dispensed, fill.filled_at = [], None, None, None
        fill.owed = Decimal("0")
        ledger = ClaimLedger(self.rx)
        fill.earlier_claims = []
        fill.claim = ledger._new_claim(_coverage_of(claims[0]), now, max(c.attempt for c in claims) + 1)
        return [ledger._claim_submitted(fill)]
