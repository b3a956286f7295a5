"""An order as the FHIR door handles it: its command, its dedupe key, its ids and its envelope.

One MedicationRequest is one command and one order. Its identity is its placer identifier: the key
the door dedupes on (``system|value``; a cancellation ``cancel|system|value``), the correlation id that
is also the MedicationRequest id a client reads back, and a message id derived from sender and key so a
resend that slips past the dedupe record is still dropped by the workers (same id).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from functools import cached_property
from urllib.parse import quote

from hub.domain.commands import CancelPrescription, Command, ReceivePrescription
from hub.domain.order_parts import Source
from hub.messaging.envelope import Envelope, derived_message_id, order_correlation_id

DOOR = "fhir"


def sender_origin(sender: str) -> str:
    """The system a lone resource's id is scoped to when it has no identifier: the authenticated sender."""
    return f"urn:rxhub:sender:{quote(sender, safe='')}"


def placer_key(system: str | None, value: str) -> str:
    """The dedupe control id of a new order (what ``If-None-Exist: identifier=system|value`` names)."""
    return f"{system or ''}|{value}"


@dataclass(frozen=True)
class Order:
    """One order of a request; ``index`` is its Bundle entry (None for a lone MedicationRequest)."""

    command: ReceivePrescription | CancelPrescription
    #: the principal sending it, who owns the order (``hub.security.principals``)
    owner: str
    index: int | None = None

    @classmethod
    def of(cls, command: Command, index: int | None = None, *, owner: str) -> Order:
        """Wrap a command the FHIR mapping produced (it only produces these two)."""
        if not isinstance(command, ReceivePrescription | CancelPrescription):
            raise TypeError(f"the FHIR door does not send {type(command).__name__}")
        return cls(command, owner, index)

    @property
    def is_cancel(self) -> bool:
        """True for a cancellation (status cancelled or stopped)."""
        return isinstance(self.command, CancelPrescription)

    @cached_property
    def key(self) -> str:
        """The dedupe control id in the inbound store."""
        key = placer_key(self.command.placer_system, self.command.placer_order_number)
        return f"cancel|{key}" if self.is_cancel else key

    @cached_property
    def correlation_id(self) -> uuid.UUID:
        """The order's correlation id, the same for its new order and its cancellation, within its owner."""
        return order_correlation_id(self.command.placer_system, self.command.placer_order_number, owner=self.owner)

    @cached_property
    def resource_id(self) -> str:
        """The MedicationRequest id the client reads the order back with."""
        return str(self.correlation_id)

    @property
    def location(self) -> str:
        """Relative URL of the order's MedicationRequest."""
        return f"MedicationRequest/{self.resource_id}"

    def record_id(self, sender: str) -> str:
        """The inbound store record id (and raw message reference) of this order from this sender."""
        return str(derived_message_id(DOOR, "inbound", sender, self.key))

    def envelope(self, sender: str, record_id: str | None = None) -> Envelope:
        """The command in its envelope, pointing at the stored raw request (``record_id`` if already known)."""
        record_id = record_id or self.record_id(sender)
        command = self.command.model_copy(update={"raw_message_ref": f"{DOOR}:{record_id}"})
        return Envelope.wrap(
            command,
            correlation_id=self.correlation_id,
            source=Source.FHIR,
            message_id=derived_message_id(DOOR, sender, self.key),
            principal=self.owner,
        )
