"""MSH-10 derived from the CloudEvents id and the destination, so a redelivered event is resent under the same
control id, and two destinations never get one id from the same sender for the same event.

The id is 20 upper-case hex digits (80 bits), fitting MSH-10's 20 characters up to v2.6: the event id's first
12 hex digits, so anyone can find the event by searching for that prefix, then 8 of a hash of event id and
destination name.  A receiver can dedupe a resend on it; an engine deduping on MSH-3/4/10 across feeds keeps
both the ORM and the RDE of one event.
"""

from __future__ import annotations

import uuid

from hub.messaging.envelope import RXHUB_NAMESPACE

CONTROL_ID_LENGTH = 20
#: hex digits taken from the event id itself
EVENT_PART = 12


def control_id_for(event_id: str, destination: str) -> str:
    """The control id of this event's message to this destination; a non-UUID event id is hashed first."""
    try:
        source = uuid.UUID(event_id)
    except ValueError:
        source = uuid.uuid5(RXHUB_NAMESPACE, f"hl7-outbound|{event_id}")
    per_destination = uuid.uuid5(RXHUB_NAMESPACE, f"hl7-outbound|{source}|{destination}")
    return (source.hex[:EVENT_PART] + per_destination.hex[: CONTROL_ID_LENGTH - EVENT_PART]).upper()
