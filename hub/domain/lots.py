"""A quantity taken from one lot: shared by inventory, fills, labels and events."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated

from pydantic import Field, StringConstraints

from hub.domain.order_parts import Frozen

#: a manufacturer's lot number as printed on the package
LotNumber = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40)]
#: a count of stock: positive, at most 9 whole digits and 3 decimals (what the shelf records)
StockQuantity = Annotated[Decimal, Field(gt=0, max_digits=12, decimal_places=3)]


class Pick(Frozen):
    """Quantity taken from one lot for a fill (what the label and the dispense record cite)."""

    lot: str
    expiry: date
    quantity: Decimal
