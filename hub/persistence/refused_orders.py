"""Refused orders: orders a door answered positively (AA/CA, 2xx, Status 010) that intake then refused.

Intake records one with the ``order.refused`` event, in the same transaction (held back with the batch's
other rows); the staff API lists them, newest first, and the FHIR read of a refused order finds its refusal
by correlation id (the MedicationRequest id the client was given).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, RowMapping, bindparam, insert, select

from hub.domain.events import OrderRefused
from hub.domain.refused_orders import RefusedOrder
from hub.persistence import deferred
from hub.persistence.tables import refused_orders
from hub.persistence.transaction_state import TransactionState

_ADD = insert(refused_orders)
_NEWEST = select(refused_orders).order_by(refused_orders.c.refused_at.desc(), refused_orders.c.id)
_OF_ORDER = (
    select(refused_orders)
    .where(refused_orders.c.correlation_id == bindparam("correlation_id"))
    .order_by(refused_orders.c.refused_at, refused_orders.c.id)
)


class RefusedOrders:
    """The refused orders on the caller's connection (in its transaction)."""

    def __init__(self, conn: Connection, state: TransactionState | None = None) -> None:
        self.conn = conn
        #: the worker transaction's state (writes held back, rows read ahead); None: none of that
        self.state = state

    def add(self, event: OrderRefused, *, correlation_id: str, refused_at: datetime) -> None:
        """Record the refusal an ``order.refused`` event announces (held back to the end of a worker's batch)."""
        deferred.write(
            self.conn,
            self.state,
            _ADD,
            dict(
                id=event.refusal_id,
                correlation_id=correlation_id,
                owner=event.owner,
                source=event.source,
                placer_order_number=event.placer_order_number,
                placer_system=event.placer_system,
                code=event.code,
                reason=event.reason,
                held_by=event.prescription_id,
                control_id=event.reply.control_id if event.reply is not None else None,
                raw_message_ref=event.raw_message_ref,
                refused_at=refused_at,
            ),
        )

    def newest(self, limit: int, *, since: datetime | None = None) -> list[RefusedOrder]:
        """The latest refusals first (those at or after ``since`` only, when given)."""
        query = _NEWEST if since is None else _NEWEST.where(refused_orders.c.refused_at >= since)
        rows = deferred.execute(self.conn, self.state, query.limit(limit)).mappings().all()
        return [_record(row) for row in rows]

    def of_order(self, correlation_id: str, owner: str | None = None) -> list[RefusedOrder]:
        """An order's refusals, oldest first; with ``owner``, only those of orders that principal sent."""
        rows = deferred.execute(self.conn, self.state, _OF_ORDER, {"correlation_id": correlation_id}).mappings().all()
        return [_record(row) for row in rows if owner is None or row["owner"] == owner]


def _record(row: RowMapping) -> RefusedOrder:
    return RefusedOrder(**{column: row[column] for column in RefusedOrder.__dataclass_fields__})
