"""The public events as a machine-readable catalogue (AsyncAPI 2.6 with JSON Schema payloads).

``rxhub events`` prints it; docs/asyncapi.json is the committed copy, checked current by a test.
"""

from __future__ import annotations

import json
from typing import Any

import hub.domain.partial_events  # registers the partial-fill events
import hub.domain.workflow_events  # noqa: F401  (registers the workflow events)
from hub.domain.events import EVENT_TYPES


def catalogue() -> dict[str, Any]:
    """AsyncAPI document: one channel (routing key) per event on the rxhub.events topic exchange; each
    payload is the whole CloudEvent, its ``data`` a schema in ``components`` (a ``$ref`` inside a payload
    resolves against the document's root, so every one points there)."""
    channels: dict[str, Any] = {}
    schemas: dict[str, Any] = {}
    for name in sorted(EVENT_TYPES):
        model = EVENT_TYPES[name]
        data = model.model_json_schema(mode="serialization", ref_template="#/components/schemas/{model}")
        schemas.update(data.pop("$defs", {}))
        schemas[name] = data
        channels[name] = {
            "description": (model.__doc__ or "").strip().splitlines()[0],
            "subscribe": {
                "message": {
                    "name": name,
                    "contentType": "application/cloudevents+json",
                    "description": "CloudEvents 1.0 structured mode; dedupe on id",
                    "payload": _cloudevent(name),
                }
            },
            "bindings": {
                "amqp": {"is": "routingKey", "exchange": {"name": "rxhub.events", "type": "topic", "durable": True}}
            },
        }
    return {
        "asyncapi": "2.6.0",
        "info": {
            "title": "RxHub public events",
            "version": "1",
            "description": "Bind your own queue to the rxhub.events topic exchange with a routing pattern "
            "(e.g. 'prescription.#', 'claim.*', '#').",
        },
        "defaultContentType": "application/cloudevents+json",
        "channels": channels,
        "components": {"schemas": schemas},
    }


def _cloudevent(name: str) -> dict[str, Any]:
    """The envelope hub.messaging.cloudevents writes, around the event's own schema."""
    text = {"type": "string", "minLength": 1}
    return {
        "type": "object",
        "required": ["specversion", "id", "source", "type", "time", "datacontenttype", "correlationid", "data"],
        "properties": {
            "specversion": {"const": "1.0"},
            "id": {
                **text,
                "description": "stable: the same handled message yields the same id; two deployments "
                "(sources) never share one",
            },
            "source": {
                **text,
                "format": "uri-reference",
                "description": "the deployment: RXHUB_EVENT_SOURCE, by default urn:rxhub:ncpdp:<the pharmacy's "
                "NCPDP id>",
            },
            "type": {"const": name},
            "subject": {"type": ["string", "null"], "description": "the prescription id"},
            "time": {"type": "string", "format": "date-time"},
            "datacontenttype": {"const": "application/json"},
            "dataschema": text,
            "correlationid": {**text, "description": "the order's correlation id"},
            "causationid": {**text, "description": "the message that caused this event"},
            "actor": {**text, "description": "who acted (staff user or feed principal)"},
            "patientid": {
                **text,
                "description": "the hub's own id of the patient, when the event is about one; "
                "data.patient_identifiers (MRN...) is sent only where "
                "RXHUB_EVENTS_INCLUDE_IDENTIFIERS is set",
            },
            "data": {"$ref": f"#/components/schemas/{name}"},
        },
    }


def render() -> str:
    """Stable JSON text of the catalogue."""
    return json.dumps(catalogue(), indent=2, sort_keys=True) + "\n"


def markdown_table() -> str:
    """The README's table of events."""
    lines = ["| routing key | when |", "|---|---|"]
    for name in sorted(EVENT_TYPES):
        lines.append(f"| `{name}` | {(EVENT_TYPES[name].__doc__ or '').strip().splitlines()[0]} |")
    return "\n".join(lines)
