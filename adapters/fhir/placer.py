"""The order's idempotency key (If-None-Exist on MedicationRequest.identifier) and how it is chosen.

1. the identifier typed PLAC (v2-0203 placer order number), else the first identifier with a value;
2. without identifiers: the resource id, with the sender as system (MessageHeader.source.endpoint for
   a message, else the RESTful base of the entry's fullUrl, else what the caller passes as origin);
3. without an id: a ``urn:uuid`` fullUrl, which is unique by construction;
4. else there is no key and the order is refused at ``MedicationRequest.identifier``.
"""

from __future__ import annotations

from adapters.fhir.elements import JsonObject, identifiers, text
from hub.domain.order_parts import Identifier


def placer_identifier(
    resource: JsonObject, *, origin: str | None = None, full_url: str | None = None
) -> Identifier | None:
    """The order's idempotency key: identifier typed PLAC, else the first; else id + origin; else urn:uuid."""
    found = identifiers(resource)
    chosen = next((i for i in found if i.type_code == "PLAC"), found[0] if found else None)
    if chosen is not None:
        return chosen
    if (resource_id := text(resource, "id")) is not None:
        return Identifier(value=resource_id, system=origin)
    if full_url is not None and full_url.startswith("urn:uuid:"):
        return Identifier(value=full_url, system="urn:ietf:rfc:3986")
    return None
