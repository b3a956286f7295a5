"""Inventory lots as rows; the FEFO and reservation rules live in ``hub.domain.inventory``."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, bindparam, insert, select, update

from hub.domain.inventory import InventoryItem
from hub.persistence import deferred
from hub.persistence.tables import inventory
from hub.persistence.transaction_state import TransactionState

#: lots with nothing on hand are never picked, reserved, released nor consumed (reserved <= on_hand), and they
#: pile up with every delivery used up: a fill reads, locks and builds only the lots that hold stock
_LOTS = select(inventory).where(inventory.c.ndc == bindparam("ndc"), inventory.c.on_hand > 0).order_by(inventory.c.lot)
#: in lot order, so two transactions lock one NDC's lots in the same order
_LOTS_FOR_UPDATE = _LOTS.with_for_update()
_SAVE = (
    update(inventory)
    .where(inventory.c.ndc == bindparam("item_ndc"), inventory.c.lot == bindparam("item_lot"))
    .values(on_hand=bindparam("on_hand"), reserved=bindparam("reserved"))
)


class StockRepository:
    """Reads and writes lots of one NDC at a time."""

    def __init__(self, conn: Connection, state: TransactionState | None = None) -> None:
        self.conn = conn
        #: the worker transaction's state (writes held back, rows read ahead); None: none of that
        self.state = state

    def lots(self, ndc: str, *, for_update: bool = False) -> list[InventoryItem]:
        """The lots of an NDC that hold stock, expired ones included (the domain skips them; a reservation made
        before a lot expired is still released or consumed from it).

        ``for_update``: locked until the transaction ends (PostgreSQL; SQLite's writer lock already is), so
        that counts read, changed and written back cannot be overwritten by a concurrent fill in between.
        """
        query = _LOTS_FOR_UPDATE if for_update else _LOTS
        rows = deferred.execute(self.conn, self.state, query, {"ndc": ndc}).mappings().all()
        return [_item(r) for r in rows]

    def all_lots(self) -> list[InventoryItem]:
        """The whole shelf."""
        rows = (
            deferred.execute(self.conn, self.state, select(inventory).order_by(inventory.c.ndc, inventory.c.expiry))
            .mappings()
            .all()
        )
        return [_item(r) for r in rows]

    def save(self, items: Sequence[InventoryItem], *, before: Sequence[InventoryItem] = ()) -> None:
        """Write back lots changed by reserve/release/consume (only those that differ from ``before``)."""
        unchanged = set(before)
        for item in items:
            if item in unchanged:
                continue
            # absolute counts of a lot this transaction holds locked: a batch of fills from one lot writes it
            # once, at the end, with the last fill's counts (hub.persistence.deferred)
            deferred.write(
                self.conn,
                self.state,
                _SAVE,
                {"item_ndc": item.ndc, "item_lot": item.lot, "on_hand": item.on_hand, "reserved": item.reserved},
                key=(item.ndc, item.lot),
            )

    def receive(self, ndc: str, lot: str, expiry: date, quantity: Decimal) -> None:
        """Add a delivery to a lot (a new lot, or more of one on the shelf)."""
        found = deferred.execute(
            self.conn, self.state, select(inventory.c.on_hand).where(inventory.c.ndc == ndc, inventory.c.lot == lot)
        ).first()
        if found is None:
            self.conn.execute(
                insert(inventory).values(ndc=ndc, lot=lot, expiry=expiry, on_hand=quantity, reserved=Decimal("0"))
            )
        else:
            # relative, not the count read above: a dispense committing in between is not overwritten
            self.conn.execute(
                update(inventory)
                .where(inventory.c.ndc == ndc, inventory.c.lot == lot)
                .values(on_hand=inventory.c.on_hand + quantity, expiry=expiry)
            )


def _item(r: Any) -> InventoryItem:
    return InventoryItem(
        ndc=r["ndc"], lot=r["lot"], expiry=r["expiry"], on_hand=Decimal(r["on_hand"]), reserved=Decimal(r["reserved"])
    )
