"""What the FHIR door records of a request it refused: who sent it, the id it is found by, and the answer.

Every POST answered 4xx or 5xx once its bearer token was accepted goes to the hub's refusal log (the message
search and the audit trail). Refusals of the token itself (401, 403 for a role, 429) are audited by
authentication and not recorded again. The control id is what the sender knows its request by: a
MedicationRequest's placer identifier as ``system|value`` (the key accepted orders are recorded under), a
Bundle's ``identifier.value``, else its ``id``, else its MessageHeader's ``id``.
"""

from __future__ import annotations

import json
from typing import Any

from adapters.fhir.elements import obj, objs, text, texts
from adapters.fhir.orders import DOOR, placer_key, sender_origin
from adapters.fhir.placer import placer_identifier
from hub.service.ports import RefusedMessage

#: a body larger than this is not parsed a second time for its control id (the largest real order is 34 kB)
READ_MAX_BYTES = 1024 * 1024


def refused_request(*, principal: str, body: bytes, status: int, answer: bytes) -> RefusedMessage:
    """The refusal log's record of one refused request, from its body as far as it can be read."""
    resource = _readable(body)
    return RefusedMessage(
        door=DOOR,
        actor=principal,
        claimed_sender=None,
        control_id=control_id(resource, principal),
        message_type=message_type(resource),
        answer_code=str(status),
        outcome="refused" if status == 403 or status >= 500 else "error",
        reason=_reason(answer),
        answer=answer,
        raw=body,
        budget_key=principal,
    )


def refused_entries(*, principal: str, body: bytes, response: dict[str, Any]) -> list[RefusedMessage]:
    """The records of a batch's entries answered 4xx/5xx inside its 200 batch-response: each is a refusal of
    its own, found by its own order's control id (the request's body is kept once, not per entry)."""
    request_entries = objs(_readable(body), "entry")
    found = []
    for index, entry in enumerate(objs(response, "entry")):
        answered = obj(entry, "response")
        status = (text(answered, "status") or "").split(" ", 1)[0]
        if not status.isdigit() or int(status) < 400:
            continue
        resource = obj(request_entries[index], "resource") if index < len(request_entries) else None
        outcome = obj(answered, "outcome")
        answer = json.dumps(outcome).encode() if outcome is not None else b""
        found.append(
            RefusedMessage(
                door=DOOR,
                actor=principal,
                claimed_sender=None,
                control_id=control_id(resource, principal),
                message_type=f"{message_type(resource) or 'entry'} (Bundle/batch entry {index})",
                answer_code=status,
                outcome="refused" if int(status) == 403 or int(status) >= 500 else "error",
                reason=f"Bundle.entry[{index}]: {_reason(answer) if answer else status}",
                answer=answer,
                raw=b"",
                budget_key=principal,
            )
        )
    return found


def control_id(resource: dict[str, Any] | None, principal: str) -> str:
    """The id the sender knows the request by (see the module docstring); empty when there is none."""
    if resource is None:
        return ""
    if resource.get("resourceType") == "MedicationRequest":
        placer = placer_identifier(resource, origin=sender_origin(principal))
        return placer_key(placer.system, placer.value) if placer is not None else ""
    identifier = obj(resource, "identifier")
    first = next(iter(objs(resource, "entry")), None)
    header = obj(first, "resource")
    header = header if header is not None and header.get("resourceType") == "MessageHeader" else None
    return text(identifier, "value") or text(resource, "id") or text(header, "id") or ""


def message_type(resource: dict[str, Any] | None) -> str:
    """``MedicationRequest``, ``Bundle/<type>``, or the resource type, as accepted requests are recorded."""
    if resource is None:
        return ""
    kind = text(resource, "resourceType") or ""
    bundle_type = text(resource, "type") if kind == "Bundle" else None
    return f"Bundle/{bundle_type}" if bundle_type else kind


def _readable(body: bytes) -> dict[str, Any] | None:
    if len(body) > READ_MAX_BYTES:
        return None
    try:
        value = json.loads(body.decode("utf-8-sig"))
    except (ValueError, RecursionError):
        return None
    return value if isinstance(value, dict) else None


def _reason(answer: bytes) -> str:
    """The answer's issues, each with its place: its OperationOutcome's, or the one a response message holds."""
    resource = _readable(answer)
    if resource is not None and resource.get("resourceType") == "Bundle":
        found = [
            r
            for r in (obj(e, "resource") for e in objs(resource, "entry"))
            if r is not None and r.get("resourceType") == "OperationOutcome"
        ]
        resource = found[0] if found else None
    parts = []
    for issue in objs(resource, "issue"):
        where = texts(issue, "expression")
        said = text(issue, "diagnostics") or text(obj(issue, "details"), "text") or text(issue, "code") or ""
        parts.append(f"{where[0]}: {said}" if where else said)
    return "; ".join(parts) or "refused"
