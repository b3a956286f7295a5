"""The refused orders queue: orders a door had answered positively that intake then refused.

Each was kept by nobody; its sender was told where its standard allows (an HL7 application reject when
MSH-16 asked for one, the FHIR read of the order, a SCRIPT Error to the prescriber) and a technician finds
it here, newest first, to follow up with the sender (``held_by`` is the prescription that kept the identity).
"""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Depends
from pydantic import BaseModel

from hub.entrypoints.http.auth import require
from hub.entrypoints.http.dependencies import DbEngine
from hub.persistence.database import read_connection
from hub.persistence.refused_orders import RefusedOrders
from hub.persistence.users import User

router = APIRouter(prefix="/api/refused-orders", tags=["staff"])

STAFF = ("technician", "pharmacist", "admin")
#: most items a listing returns
LIMIT = 200


class RefusedOrderItem(BaseModel):
    """One refused order, without patient details (the holder's prescription has them)."""

    id: str
    refused_at: datetime
    #: the door (hl7, fhir, script) and the principal that sent it
    source: str
    owner: str | None
    placer_order_number: str
    placer_system: str | None
    #: ``duplicate-order``, and the reason as the sender was told
    code: str
    reason: str
    #: the prescription that holds the order's identity (GET /api/prescriptions/{held_by})
    held_by: str | None
    #: the sender's message control id (HL7 MSH-10), when it asked for an application acknowledgement
    control_id: str | None


@router.get("", response_model=list[RefusedOrderItem])
def refused_orders(
    engine: DbEngine, since: datetime | None = None, user: User = Depends(require(*STAFF))
) -> list[RefusedOrderItem]:
    """Refused orders, newest first (those refused at or after ``since`` only, when given)."""
    with read_connection(engine) as conn:
        found = RefusedOrders(conn).newest(LIMIT, since=since)
    return [RefusedOrderItem.model_validate(r, from_attributes=True) for r in found]
