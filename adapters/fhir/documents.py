"""Document Bundles submitted with POST /Bundle: created resources, readable at ``Bundle/{id}`` by their sender.

A document's orders are accepted all or none (``writes.post_document``); the Bundle itself is then created:
its id derives from the sender and ``Bundle.identifier`` (a resend is the same Bundle, answered 200 as
before), and it is recorded beside its orders in the inbound store: the message as received (sealed at rest
when a data key is installed) and the ``meta`` it was given. A read serves it from there until the
raw-message retention (RXHUB_RAW_RETENTION_DAYS) purges it.
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import datetime
from typing import Any

from adapters.fhir.door import FhirDoor
from adapters.fhir.elements import obj, text
from adapters.fhir.json_body import fhir_json
from adapters.fhir.parsing import parse_resource
from adapters.fhir.stamps import stamped
from hub.errors import InboundMessageError, NotFound

#: the namespace of Bundle ids (uuid5 of sender and document identifier)
_NAMESPACE = uuid.UUID("5b0c6f64-8a57-4c1e-9e43-2f4f1f0b7d21")
MESSAGE_TYPE = "Bundle/document"


def document_id(sender: str, bundle: dict[str, Any], body: bytes) -> str:
    """The id of a sender's document: from its identifier (bdl-9), else from its content."""
    identifier = obj(bundle, "identifier")
    value = text(identifier, "value")
    seed = f"{text(identifier, 'system') or ''}|{value}" if value else f"sha256:{hashlib.sha256(body).hexdigest()}"
    return str(uuid.uuid5(_NAMESPACE, f"{sender}|{seed}"))


def _key(resource_id: str) -> str:
    return f"document|{resource_id}"


async def read(door: FhirDoor, resource_id: str, sender: str) -> dict[str, Any]:
    """GET /Bundle/{id}: the document as it was received and kept."""
    found = await _kept(door, resource_id, sender)
    if found is None:
        raise NotFound(f"Bundle/{resource_id} is not known")
    return found


async def _kept(door: FhirDoor, resource_id: str, sender: str) -> dict[str, Any] | None:
    record = await door.recorded(sender, _key(resource_id))
    if record is None:
        return None
    if not record.raw:
        raise NotFound(
            f"Bundle/{resource_id} is no longer kept: received documents are purged after the retention period"
        )
    bundle = parse_resource(record.raw)
    try:
        meta = parse_resource(record.answer or b"{}").get("meta")
    except InboundMessageError:
        meta = None
    kept = {**bundle, "id": resource_id}
    return {**kept, "meta": meta} if isinstance(meta, dict) else stamped(kept, None)


async def keep(
    door: FhirDoor, sender: str, bundle: dict[str, Any], body: bytes, now: datetime
) -> tuple[dict[str, Any], bool]:
    """The document as stored, and whether it was created now (False: a resend of one already kept)."""
    resource_id = document_id(sender, bundle, body)
    found = await _kept(door, resource_id, sender)
    if found is not None:
        return found, False
    stored = stamped({**bundle, "id": resource_id}, now)
    door.record(sender, _key(resource_id), MESSAGE_TYPE, body, fhir_json({"meta": stored["meta"]}), [])
    return stored, True
