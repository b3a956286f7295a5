"""FHIR messaging ($process-message): the facts of a request MessageHeader, and the reply Bundle.

R4 messaging.html: the reply is a ``message`` Bundle whose MessageHeader.response names the request
MessageHeader's id and says ``ok``, ``transient-error`` or ``fatal-error``, with an OperationOutcome
in ``response.details`` when something went wrong.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from adapters.fhir.elements import obj, text
from adapters.fhir.references import BundleEntry
from hub.messaging.envelope import derived_message_id

ResponseCode = Literal["ok", "transient-error", "fatal-error"]
#: where the hub's replies say they come from unless the caller says otherwise
HUB_ENDPOINT = "urn:rxhub:fhir"

_FHIR_ID = re.compile(r"[A-Za-z0-9\-.]{1,64}")


class MessageInfo(BaseModel):
    """What a reply needs from the request MessageHeader (and what the route logs)."""

    model_config = ConfigDict(frozen=True)

    #: MessageHeader.id, else the uuid of its urn:uuid fullUrl (EPS omits the id), else None
    header_id: str | None = None
    full_url: str | None = None
    event_system: str | None = None
    event_code: str | None = None
    source_endpoint: str | None = None
    source_name: str | None = None


def message_info(entry: BundleEntry) -> MessageInfo:
    """The facts of a request MessageHeader entry."""
    header = entry.resource
    event = obj(header, "eventCoding")
    header_id = text(header, "id")
    if header_id is None and entry.full_url and entry.full_url.startswith("urn:uuid:"):
        header_id = entry.full_url.removeprefix("urn:uuid:")
    return MessageInfo(
        header_id=header_id if header_id and _FHIR_ID.fullmatch(header_id) else None,
        full_url=entry.full_url,
        event_system=text(event, "system"),
        event_code=text(event, "code") or text(header, "eventUri"),
        source_endpoint=text(obj(header, "source"), "endpoint"),
        source_name=text(obj(header, "source"), "name"),
    )


def request_message_info(bundle: dict[str, Any]) -> MessageInfo | None:
    """The request MessageHeader facts of any body, even one refused, so a reply can still be built."""
    entries = bundle.get("entry")
    first = entries[0] if isinstance(entries, list) and entries and isinstance(entries[0], dict) else None
    resource = obj(first, "resource")
    if resource is None or resource.get("resourceType") != "MessageHeader":
        return None
    return message_info(BundleEntry(0, text(first, "fullUrl"), resource))


def _instant(now: datetime) -> str:
    aware = now if now.tzinfo is not None else now.replace(tzinfo=UTC)
    return aware.isoformat(timespec="milliseconds")


def _event(request: MessageInfo | None) -> dict[str, Any]:
    if request is not None and request.event_code and not request.event_code.startswith(("http:", "https:")):
        return {"eventCoding": {k: v for k, v in (("system", request.event_system), ("code", request.event_code)) if v}}
    if request is not None and request.event_code:
        return {"eventUri": request.event_code}
    return {"eventCoding": {"system": "urn:rxhub:fhir:message-event", "code": "response"}}


def response_message(
    request_header_id: str,
    code: ResponseCode,
    outcome: dict[str, Any] | None,
    *,
    now: datetime,
    request: MessageInfo | None = None,
    source_endpoint: str = HUB_ENDPOINT,
) -> dict[str, Any]:
    """The reply message Bundle for a $process-message request (R4 MessageHeader.response)."""
    header_id = str(derived_message_id("fhir-response", request_header_id, code))
    outcome_id = str(derived_message_id("fhir-response-outcome", request_header_id, code))
    response: dict[str, Any] = {"identifier": request_header_id, "code": code}
    header: dict[str, Any] = {
        "resourceType": "MessageHeader",
        "id": header_id,
        **_event(request),
        "source": {"endpoint": source_endpoint},
        "response": response,
    }
    if request is not None and request.source_endpoint:
        header["destination"] = [{"endpoint": request.source_endpoint}]
    entries: list[dict[str, Any]] = [{"fullUrl": f"urn:uuid:{header_id}", "resource": header}]
    if outcome is not None:
        response["details"] = {"reference": f"urn:uuid:{outcome_id}"}
        entries.append({"fullUrl": f"urn:uuid:{outcome_id}", "resource": {**outcome, "id": outcome_id}})
    return {
        "resourceType": "Bundle",
        "id": str(derived_message_id("fhir-response-bundle", request_header_id, code)),
        "type": "message",
        "timestamp": _instant(now),
        "entry": entries,
    }
