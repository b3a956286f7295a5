"""Public events as CloudEvents 1.0 JSON (structured mode), the format subscribers read."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import orjson

from hub.domain.events import Event
from hub.messaging.envelope import name_uuid

CONTENT_TYPE = "application/cloudevents+json"
#: the source of events built on an engine the composition root did not configure (tests, tools); a deployment's
#: is ``Settings.event_source``
DEFAULT_SOURCE = "urn:rxhub"


def event_id(source: str, causation_id: uuid.UUID | str, event_name: str, index: int) -> str:
    """Stable: the same handled message yields the same event ids, so subscribers can dedupe a republished
    event; the source is part of the name, so two deployments fed the same messages never share an id
    (CloudEvents 1.0 asks ``source`` + ``id`` to be unique; subscribers that dedupe on ``id`` alone are safe too)."""
    return str(name_uuid(f"event|{source}|{causation_id}|{event_name}|{index}"))


def to_cloudevent(
    event: Event,
    *,
    event_id: str,
    source: str,
    time: datetime,
    correlation_id: str,
    causation_id: str | None,
    actor: str | None = None,
    patient_id: str | None = None,
    identifiers: bool = True,
) -> dict[str, Any]:
    """Structured-mode CloudEvent; extension names are lowercase alphanumerics per the spec.

    ``patient_id``: the hub's own patient id (extension ``patientid``), what a subscriber looks a patient up
    by; ``identifiers`` false leaves the patient's identifiers (MRN...) out of ``data``, so that they reach
    only the subscribers of a deployment that chose to send them (``RXHUB_EVENTS_INCLUDE_IDENTIFIERS``).
    """
    envelope: dict[str, Any] = {
        "specversion": "1.0",
        "id": event_id,
        "source": source,
        "type": event.name,
        "subject": event.prescription_id,
        "time": time.isoformat(),
        "datacontenttype": "application/json",
        "dataschema": f"urn:rxhub:schema:{event.name}:1",
        "correlationid": correlation_id,
        "data": event.model_dump(mode="json", exclude=None if identifiers else {"patient_identifiers"}),
    }
    if patient_id:
        envelope["patientid"] = patient_id
    if causation_id:
        envelope["causationid"] = causation_id
    if actor:
        envelope["actor"] = actor
    return envelope


def encode(cloudevent: dict[str, Any]) -> bytes:
    """Compact JSON bytes (UTF-8 as is, not \\u-escaped)."""
    return orjson.dumps(cloudevent)
