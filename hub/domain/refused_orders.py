"""A refused order: one a door had answered positively (AA/CA, 2xx, Status 010) that intake then refused.

Nothing of the order was kept; this record is what is left of it, for staff (the refused orders queue) and
for its sender's reads (FHIR shows the refusal on the MedicationRequest it was given).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class RefusedOrder:
    """One refusal, as recorded with its ``order.refused`` event."""

    id: str
    #: the refused order's correlation id: the MedicationRequest id a FHIR client was given
    correlation_id: str
    #: the principal that sent it
    owner: str | None
    source: str
    placer_order_number: str
    placer_system: str | None
    #: ``duplicate-order``, and the reason in words, as the sender was told
    code: str
    reason: str
    #: the prescription that holds the order's identity
    held_by: str | None
    #: the sender's message control id (HL7 MSH-10), when it asked for an application acknowledgement
    control_id: str | None
    raw_message_ref: str | None
    refused_at: datetime
