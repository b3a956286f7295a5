"""What a fill's claim says of its quantity: a whole fill, a partial fill (343-HD P) or its completion (C)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal

from pydantic import BaseModel, ConfigDict

from hub.domain.fill import Fill
from hub.domain.partial_fill import DispensingStatus


class ClaimQuantities(BaseModel):
    """The quantity fields of a B1/B3 for one fill, as ``ClaimRequestData`` names them."""

    model_config = ConfigDict(frozen=True)

    #: 442-E7 / 405-D5: what this fill dispenses (the part now, or the rest)
    quantity: Decimal
    days_supply: int | None = None
    #: 343-HD P or C; None for a whole fill
    dispensing_status: str | None = None
    #: 344-HF / 345-HG: the whole fill, on a partial fill and on its completion
    quantity_intended: Decimal | None = None
    days_supply_intended: int | None = None
    #: 456-EN / 457-EP on a completion: the Rx number and date of service of the partial fill it completes
    associated_rx_number: str | None = None
    associated_date: date | None = None


def claim_quantities(rx_number: str, fills: Sequence[Fill], fill: Fill, attempt: int | None = None) -> ClaimQuantities:
    """The quantity fields of ``fill``'s claim ``attempt``, one of the prescription's ``fills`` (a reversal sends
    343-HD too); a closed partial fill is billed again whole, for what it dispensed."""
    closure = fill.closure
    if closure is not None and closure.billed_attempt is not None and (attempt or 0) >= closure.billed_attempt:
        return ClaimQuantities(
            quantity=fill.quantity_dispensed or fill.quantity or Decimal("0"), days_supply=fill.days_supply
        )
    status = fill.dispensing_status
    whole = {
        "quantity": fill.quantity or Decimal("0"),
        "days_supply": fill.days_supply,
        "dispensing_status": status.value if status else None,
        "quantity_intended": fill.quantity_intended if status else None,
        "days_supply_intended": fill.days_supply_intended if status else None,
    }
    if status is not DispensingStatus.COMPLETION and not (status and fill.dispensed_before):
        return ClaimQuantities(**whole)
    part = _part_of(fills, fill)
    served = part.claim.submitted_at if part is not None and part.claim is not None else None
    return ClaimQuantities(**whole, associated_rx_number=rx_number, associated_date=served.date() if served else None)


def _part_of(fills: Sequence[Fill], rest: Fill) -> Fill | None:
    """The partial fill a completion (or a later portion) follows: the last P before it with the same fill number."""
    before = next((fills[:i] for i, f in enumerate(fills) if f is rest), fills)
    parts = [f for f in before if f.fill_number == rest.fill_number and f.dispensing_status is DispensingStatus.PARTIAL]
    return parts[-1] if parts else None
