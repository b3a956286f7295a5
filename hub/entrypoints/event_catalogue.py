"""The public events as a machine-readable catalogue (AsyncAPI 2.6 with JSON Schema payloads).

``rxhub events`` prints it; docs/asyncapi.json is the committed copy, checked current by a test.
"""

from __future__ import annotations

import json
from typing import Any

import hub.domain.workflow_events  # noqa: F401  (registers the workflow events)
from hub.domain.events import EVENT_TYPES


def catalogue() -> dict[str, Any]:
    """AsyncAPI document: one channel (routing key) per event on the rxhub.events topic exchange."""
    channels: dict[str, Any] = {}
    for name in sorted(EVENT_TYPES):
        model = EVENT_TYPES[name]
        channels[name] = {
            "description": (model.__doc__ or "").strip().splitlines()[0],
            "subscribe": {
                "message": {
                    "name": name,
                    "contentType": "application/cloudevents+json",
                    "headers": {"type": "object", "description": "CloudEvents 1.0 structured mode: specversion, "
                                "id (stable, dedupe on it), source, type, subject (prescription id), time, "
                                "correlationid, causationid, actor; the payload is in data"},
                    "payload": model.model_json_schema(mode="serialization"),
                }
            },
            "bindings": {"amqp": {"is": "routingKey", "exchange": {"name": "rxhub.events", "type": "topic",
                                                                   "durable": True}}},
        }
    return {
        "asyncapi": "2.6.0",
        "info": {"title": "RxHub public events", "version": "1",
                 "description": "Bind your own queue to the rxhub.events topic exchange with a routing pattern "
                                "(e.g. 'prescription.#', 'claim.*', '#')."},
        "defaultContentType": "application/cloudevents+json",
        "channels": channels,
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
