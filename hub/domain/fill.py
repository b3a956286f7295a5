"""One fill of a prescription: its state, claim, picked lots, label and the audit trail of its steps."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from pydantic import BaseModel, ConfigDict

from hub.domain.claim import Claim, ClaimStatus
from hub.domain.label import Label
from hub.domain.lots import Pick
from hub.domain.order_context import Pharmacist
from hub.domain.partial_fill import DispensingStatus, PartialClosure, PartialDecision, ShortStock, ShortStockChoice
from hub.domain.states import TERMINAL_STATES, Action, RxState


class StateChange(BaseModel):
    """One step in a fill's history: who moved it, from where to where, when, and why."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    action: Action
    source: RxState
    target: RxState
    actor_id: str
    at: datetime
    note: str | None = None


class Fill(BaseModel):
    """A fill: number 0 is the original, each refill adds one (NCPDP 403-D3)."""

    model_config = ConfigDict(extra="forbid")

    fill_number: int
    state: RxState = RxState.RECEIVED
    created_at: datetime
    quantity: Decimal | None = None
    days_supply: int | None = None
    #: why the fill waits in the technician's intake queue
    needs_product_reason: str | None = None
    #: the claim of the payer billed last (the primary's, until a secondary is billed)
    claim: Claim | None = None
    #: the claims of the payers billed before ``claim``'s, primary first (coordination of benefits)
    earlier_claims: list[Claim] = []
    #: NDC-11 of the product dispensed
    ndc: str | None = None
    picks: list[Pick] = []
    quantity_dispensed: Decimal | None = None
    #: still owed to the patient after a partial fill
    owed: Decimal = Decimal("0")
    #: NCPDP 343-HD: P when only ``quantity`` of the fill is dispensed now, C on the fill dispensing the rest
    #: (same fill number); None for a whole fill
    dispensing_status: DispensingStatus | None = None
    #: NCPDP 344-HF / 345-HG: the whole fill as intended, on a partial fill and on its completion
    quantity_intended: Decimal | None = None
    days_supply_intended: int | None = None
    #: on a later portion of a partial fill (1306.13(b)): what the earlier portions of this fill number handed over
    dispensed_before: Decimal = Decimal("0")
    #: what the last pick found when the shelf could not cover the fill; it waits for a person's choice
    short_stock: ShortStock | None = None
    #: that choice: fill part now (the rest owed) or wait for stock, with who, when and why
    partial: PartialDecision | None = None
    #: a partial fill closed with its rest never to be dispensed (nothing owed any more)
    closure: PartialClosure | None = None
    #: the reversed P claim of a closed partial fill, kept when what was dispensed is billed again whole
    closed_claim: Claim | None = None
    label: Label | None = None
    filled_at: datetime | None = None
    dispensed_at: datetime | None = None
    data_verified_by: str | None = None
    product_verified_by: str | None = None
    #: the pharmacists as persons (name, licence), for the messages that name them (HL7 RXE-14, RXD-10)
    data_verifier: Pharmacist | None = None
    product_verifier: Pharmacist | None = None
    rejection_reason: str | None = None
    history: list[StateChange] = []

    @property
    def active(self) -> bool:
        """True until the fill is dispensed, returned, cancelled or rejected."""
        return self.state not in TERMINAL_STATES

    @property
    def partial_chosen(self) -> bool:
        """True when a person chose to fill part of this fill now."""
        return self.partial is not None and self.partial.choice is ShortStockChoice.PARTIAL

    @property
    def completion_due(self) -> bool:
        """True when this partial fill was handed over and its rest is still owed (``start_completion``)."""
        return self.dispensing_status is DispensingStatus.PARTIAL and self.state is RxState.DISPENSED and self.owed > 0

    def owed_after(self, dispensed: Decimal) -> Decimal:
        """What is still owed once ``dispensed`` is handed over: of the whole fill intended less the earlier
        portions, on a partial fill."""
        if self.dispensing_status is DispensingStatus.PARTIAL and self.quantity_intended is not None:
            return max(self.quantity_intended - self.dispensed_before - dispensed, Decimal("0"))
        whole = self.quantity
        return max((whole if whole is not None else dispensed) - dispensed, Decimal("0"))

    @property
    def claim_paid(self) -> bool:
        """True when the payer paid this fill's claim and it has not been reversed."""
        return self.claim is not None and self.claim.status is ClaimStatus.PAID

    def claim_of(self, attempt: int) -> Claim | None:
        """The claim sent as this attempt, whichever payer it billed; None when no claim of the fill has it."""
        claims = (self.closed_claim, *self.earlier_claims, self.claim)
        found = [c for c in claims if c is not None and c.attempt == attempt]
        return found[-1] if found else None

    @property
    def patient_pay(self) -> Decimal | None:
        """What the patient pays at pickup: copay for a paid claim, the requested amount for cash."""
        if self.claim is None:
            return None
        if self.claim.status is ClaimStatus.CASH:
            return self.claim.amount_requested
        return self.claim.patient_pay
