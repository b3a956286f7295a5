"""Stock: receiving it as it arrives (NDCs as printed, scanned package barcodes, what the shelf may not take)
and the shelf as it stands.

A lot that expired or an NDC the catalogue does not know would sit on the shelf where no fill can use it (or,
expired, be picked by someone trusting the shelf list), so both are refused at once, 422 with the reason in
words, audited like every other refused staff action (``hub.entrypoints.http.action_checks.refuse``).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Depends, Header, HTTPException, Request
from pydantic import Field

from hub.domain.catalogue import Catalogue, Product
from hub.domain.gs1 import InvalidBarcode, ndc11_candidates, parse_package
from hub.domain.identifiers import format_ndc11
from hub.domain.workflow_commands import ReceiveInventory
from hub.entrypoints.http.action_checks import refuse
from hub.entrypoints.http.auth import require
from hub.entrypoints.http.dependencies import Services, services_of
from hub.entrypoints.http.staff_commands import HANDS_ON, STAFF, send_command
from hub.entrypoints.http.staff_models import Accepted, Body, StockDelivery
from hub.messaging.envelope import derived_message_id
from hub.persistence.database import read_connection
from hub.persistence.stock import StockRepository
from hub.persistence.users import User

router = APIRouter(prefix="/api", tags=["staff"])


class Scan(Body):
    """The text a barcode scanner typed for one package (GS1 element strings)."""

    barcode: str = Field(min_length=1, max_length=200)


async def check_delivery(request: Request, user: User, body: StockDelivery, *, command: str) -> Product:
    """422 for an NDC the catalogue does not know or a lot already expired; the product otherwise."""
    product = services_of(request.app).catalogue.by_ndc(body.ndc)
    if product is None:
        await refuse(
            request,
            user,
            422,
            f"NDC {format_ndc11(body.ndc)} is not in the drug catalogue: stock of it could never be dispensed",
            command=command,
            ndc=body.ndc,
        )
    if body.expiry < date.today():
        await refuse(
            request,
            user,
            422,
            f"lot {body.lot} expired on {body.expiry.isoformat()}: it may not go on the shelf",
            command=command,
            ndc=body.ndc,
        )
    return product


def scanned_product(known: Catalogue, ndc10: str) -> Product | None:
    """The one catalogue product among the three NDC-11 readings of a barcode's NDC digits."""
    found = {p.ndc11 for p in (known.by_ndc(c) for c in ndc11_candidates(ndc10)) if p is not None}
    return known.by_ndc(found.pop()) if len(found) == 1 else None


@router.post("/inventory/scan")
async def scan(
    body: Scan, services: Services, user: User = Depends(require("technician", "pharmacist"))
) -> dict[str, Any]:
    """What a scanned package is: NDC (as the catalogue has it), drug, lot and expiry, for the receiving form to
    show before anything is received; 422 in words for a barcode that cannot be read or an unknown product."""
    try:
        package = parse_package(body.barcode, date.today())
    except InvalidBarcode as exc:
        raise HTTPException(422, {"reason": f"the barcode cannot be read: {exc}"}) from None
    product = scanned_product(services.catalogue, package.ndc10)
    if product is None:
        raise HTTPException(
            422, {"reason": f"the package's NDC digits {package.ndc10} match no product in the drug catalogue"}
        )
    return {
        "ndc": product.ndc,
        "drug": product.display_name,
        "lot": package.lot,
        "expiry": package.expiry.isoformat() if package.expiry else None,
        "gtin": package.gtin,
    }


@router.post("/inventory", status_code=202, response_model=Accepted)
async def receive_inventory(
    body: StockDelivery,
    request: Request,
    user: User = Depends(require(*HANDS_ON)),
    idempotency_key: str | None = Header(default=None),
) -> Accepted:
    """Receive a lot into stock; fills waiting for this NDC are retried (an unknown NDC or expired lot: 422)."""
    command = ReceiveInventory(ndc=body.ndc, lot=body.lot, expiry=body.expiry, quantity=body.quantity)
    await check_delivery(request, user, body, command=command.name)
    return await send_command(
        request,
        user,
        command,
        correlation_id=derived_message_id("stock", body.ndc),
        prescription_id=None,
        idempotency_key=idempotency_key,
    )


@router.get("/inventory")
def inventory(services: Services, user: User = Depends(require(*STAFF))) -> list[dict[str, Any]]:
    """The shelf: lots, expiry, on hand and reserved, with the drug's name and the NDC as printed."""
    with read_connection(services.engine) as conn:
        lots = StockRepository(conn).all_lots()
    known = services.catalogue
    return [item.model_dump(mode="json") | _named(known.by_ndc(item.ndc)) for item in lots]


def _named(product: Product | None) -> dict[str, str | None]:
    return {"drug": product.display_name if product else None, "ndc_printed": product.ndc if product else None}
