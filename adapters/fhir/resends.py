"""Whether the message stored under an order's identifier holds this very order: a resend, or another order.

An answer is a promise: 201 says the hub keeps what was sent. Of two different orders under one identifier
the first stands; the other is refused at once (409, ``duplicate``), never answered with the first order
as if its own content (a note, a dose) had been kept. A resend keeps getting its original answer.

"Same" means what the hub keeps of an order: the command both map to. A resend with another ``meta`` or
JSON layout, or the same order resent inside a Bundle, is the same order. A stored message whose body is
gone (purged after RXHUB_RAW_RETENTION_DAYS) or no longer maps is taken as the same: it is answered as before.
"""

from __future__ import annotations

from typing import Any

from adapters.fhir.bundles import bundle_commands
from adapters.fhir.mapping import medication_request_commands
from adapters.fhir.orders import Order, sender_origin
from adapters.fhir.parsing import parse_resource
from hub.domain.commands import Command
from hub.errors import ControlIdReused, InboundMessageError
from hub.service.ports import InboundRecord


def check_resend(order: Order, record: InboundRecord | None) -> None:
    """Raise ``ControlIdReused`` when ``record`` holds another order under this order's identifier."""
    if record is not None and not same_order(order, record):
        raise reused(order)


def same_order(order: Order, record: InboundRecord) -> bool:
    """True when the stored message's order under this key maps to the same command (or cannot be read)."""
    if record.raw is None:
        return True
    try:
        under_key = [c for c in _commands(record.raw, order.owner) if Order.of(c, owner=order.owner).key == order.key]
    except (InboundMessageError, TypeError):
        return True
    return not under_key or any(_content(c) == _content(order.command) for c in under_key)


def reused(order: Order) -> ControlIdReused:
    """The refusal of an order whose identifier another order of this sender already holds."""
    identifier = order.key.removeprefix("cancel|")
    where = "MedicationRequest.identifier"
    if order.index is not None:
        where = f"Bundle.entry[{order.index}].resource.identifier"
    return ControlIdReused(
        f"identifier {identifier} was already used for another order of this sender: the first one stands; "
        "resend it unchanged to read it, or send a changed order under a new identifier",
        where,
    )


def _commands(raw: bytes, owner: str) -> list[Command]:
    resource = parse_resource(raw)
    if resource.get("resourceType") == "MedicationRequest":
        return medication_request_commands(resource, origin=sender_origin(owner))
    return bundle_commands(resource).commands()


def _content(command: Command) -> tuple[str, dict[str, Any]]:
    return type(command).__name__, command.model_dump(mode="json", exclude={"raw_message_ref"})
