"""The payer's memory of paid claims: duplicates (D), reversals (A/S) and refill-too-soon (79) read it."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from adapters.ncpdp.d0.response_segments import ResponsePricingSegment
from hub.domain.order_parts import Frozen


class ClaimKey(Frozen):
    """What identifies one fill to the payer; a B2 must match the paid B1 on all of it (standards.md §4.2)."""

    bin: str
    processor_control_number: str
    service_provider_id: str
    rx_number: str
    fill_number: int
    date_of_service: date
    #: "C" for the completion of a partial fill (343-HD), so that the part and its rest, billed on the same
    #: fill number and maybe the same day, are two claims; "P" for a later portion of a partial fill (a P naming
    #: the portion before it in 456-EN); "" otherwise (a first P replaces the whole it rebills). Two later
    #: portions of one fill on one day are one claim here
    dispensing_status: str = ""


class PaidClaim(Frozen):
    """A claim the payer paid, with what it answered."""

    key: ClaimKey
    cardholder_id: str
    product_id: str
    days_supply: int
    authorization_number: str
    pricing: ResponsePricingSegment
    reversed: bool = False
    #: 343-HD as billed (P partial, C completion), 442-E7 and 344-HF: what a completion is checked against
    dispensing_status: str | None = None
    quantity_dispensed: Decimal = Decimal("0")
    quantity_intended: Decimal | None = None


class ClaimHistory:
    """In-memory paid-claim store for one simulated payer (not thread-safe: one consumer owns it).

    The fills are also kept by (cardholder, Rx): the refill-too-soon check reads them for every claim, and a
    scan of every paid claim made the simulator's cost per claim grow with the length of the run.
    """

    def __init__(self) -> None:
        self._paid: dict[ClaimKey, PaidClaim] = {}
        self._by_rx: dict[tuple[str, str], list[ClaimKey]] = {}
        self._issued = 0

    def find(self, key: ClaimKey) -> PaidClaim | None:
        """The paid claim with this key, reversed or not."""
        return self._paid.get(key)

    def record(self, claim: PaidClaim) -> None:
        """Remember a paid claim (replacing a reversed one with the same key)."""
        before = self._paid.get(claim.key)
        if before is not None:
            self._by_rx[(before.cardholder_id, before.key.rx_number)].remove(before.key)
        self._paid[claim.key] = claim
        self._by_rx.setdefault((claim.cardholder_id, claim.key.rx_number), []).append(claim.key)

    def reverse(self, key: ClaimKey) -> None:
        """Mark a paid claim reversed."""
        claim = self._paid[key]
        self._paid[key] = claim.model_copy(update={"reversed": True})

    def last_fill(self, cardholder_id: str, rx_number: str) -> PaidClaim | None:
        """The latest unreversed paid fill of this Rx for this cardholder."""
        fills = (self._paid[key] for key in self._by_rx.get((cardholder_id, rx_number), ()))
        return max((c for c in fills if not c.reversed), key=lambda c: c.key.date_of_service, default=None)

    def partial_of(self, cardholder_id: str, rx_number: str, fill_number: int) -> PaidClaim | None:
        """The unreversed partial fill (343-HD P) of this Rx and fill number, which a completion must follow."""
        claims = (self._paid[key] for key in self._by_rx.get((cardholder_id, rx_number), ()))
        found = [c for c in claims if c.key.fill_number == fill_number and c.dispensing_status == "P"]
        return next((c for c in reversed(found) if not c.reversed), None)

    def dispensed_in_parts(self, cardholder_id: str, rx_number: str, fill_number: int) -> Decimal:
        """What the unreversed partial fills (P, a first one and any later portions) of this fill dispensed."""
        claims = (self._paid[key] for key in self._by_rx.get((cardholder_id, rx_number), ()))
        parts = [
            c for c in claims if c.key.fill_number == fill_number and c.dispensing_status == "P" and not c.reversed
        ]
        return sum((c.quantity_dispensed for c in parts), Decimal("0"))

    def products_of(self, cardholder_id: str) -> dict[str, PaidClaim]:
        """The latest unreversed paid claim per product for this cardholder (for the plan's DUR)."""
        found: dict[str, PaidClaim] = {}
        for (holder, _), keys in self._by_rx.items():
            if holder != cardholder_id:
                continue
            for claim in (self._paid[k] for k in keys):
                latest = found.get(claim.product_id)
                if not claim.reversed and (latest is None or latest.key.date_of_service <= claim.key.date_of_service):
                    found[claim.product_id] = claim
        return found

    def next_authorization_number(self) -> str:
        """A fresh 503-F3 authorization number (sequential, so test runs are repeatable)."""
        self._issued += 1
        return f"SIM{self._issued:09d}"
