"""A quantity taken from one lot: shared by inventory, fills, labels and events."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from hub.domain.order_parts import Frozen


class Pick(Frozen):
    """Quantity taken from one lot for a fill (what the label and the dispense record cite)."""

    lot: str
    expiry: date
    quantity: Decimal
