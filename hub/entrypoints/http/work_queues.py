"""The work queues: the prescriptions waiting at each step, oldest first, as the console polls them."""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Response

from hub.domain.states import RxState
from hub.entrypoints.http.auth import require
from hub.entrypoints.http.dependencies import Services
from hub.entrypoints.http.staff_commands import STAFF
from hub.entrypoints.http.staff_models import QueueItem
from hub.persistence.database import read_connection
from hub.persistence.users import User

router = APIRouter(prefix="/api", tags=["staff"])

#: work queue name -> the fill states it shows
QUEUES: dict[str, tuple[RxState, ...]] = {
    "intake": (RxState.NEEDS_PRODUCT,),
    "claim-exceptions": (RxState.CLAIM_REJECTED,),
    "claims-pending": (RxState.CLAIM_PENDING,),
    "data-verification": (RxState.DATA_VERIFICATION,),
    "fill": (RxState.FILLING,),
    "product-verification": (RxState.PRODUCT_VERIFICATION,),
    "ready": (RxState.READY,),
}


@router.get("/queues/{queue}", response_model=list[QueueItem])
def work_queue(queue: str, services: Services, user: User = Depends(require(*STAFF))) -> Response:
    """A work queue, oldest first."""
    if queue not in QUEUES:
        raise HTTPException(404, f"unknown queue; known: {', '.join(QUEUES)}")
    with read_connection(services.engine) as conn:
        lines = services.queue_items.queue(conn, [s.value for s in QUEUES[queue]])
    return Response(b"[" + b",".join(lines) + b"]", media_type="application/json")
