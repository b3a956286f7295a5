"""What a fill's claim says of its quantity: a whole fill, a partial fill (343-HD P) or its completion (C)."""

from __future__ import annotations

from decimal import Decimal

from pydantic import BaseModel, ConfigDict

from hub.domain.fill import Fill


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


def claim_quantities(fill: Fill) -> ClaimQuantities:
    """The quantity fields of this fill's claim (a reversal of it sends 343-HD too)."""
    partial = fill.dispensing_status
    return ClaimQuantities(
        quantity=fill.quantity or Decimal("0"),
        days_supply=fill.days_supply,
        dispensing_status=partial.value if partial else None,
        quantity_intended=fill.quantity_intended if partial else None,
        days_supply_intended=fill.days_supply_intended if partial else None,
    )
