"""MSH-10 derived from the CloudEvents id, so a redelivered event is resent under the same control id.

The id is the event id's first 20 hex digits (80 bits): it fits MSH-10's 20 characters up to v2.6, a
receiver can dedupe a resend on it, and anyone can find the event by searching for that prefix.
"""

from __future__ import annotations

import uuid

from hub.messaging.envelope import RXHUB_NAMESPACE

CONTROL_ID_LENGTH = 20


def control_id_for(event_id: str) -> str:
    """Upper-case hex prefix of the event's UUID; a non-UUID id is hashed (uuid5) first."""
    try:
        source = uuid.UUID(event_id)
    except ValueError:
        source = uuid.uuid5(RXHUB_NAMESPACE, f"hl7-outbound|{event_id}")
    return source.hex[:CONTROL_ID_LENGTH].upper()
