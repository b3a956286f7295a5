"""One message as a door hands it to the inbound store: its dedupe key, what it is, and what it was answered.

Every door claims the key of a new message before publishing its commands (``outcome`` CLAIMED, no answer)
and records the answer once the broker confirmed them; the same entry travels from claim to record.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

#: the outcome of a key claimed for a message whose commands are being published (no answer yet)
CLAIMED = "claimed"


@dataclass(frozen=True)
class InboundEntry:
    """A row of the inbound store, keyed by (door, sender, control_id)."""

    door: str
    #: the dedupe sender: the principal, with the sender the message claims when it names one
    sender: str
    #: the sender's id of the message (HL7 MSH-10, SCRIPT MessageID, a FHIR order's identifier)
    control_id: str
    message_type: str
    raw: bytes
    outcome: str = CLAIMED
    answer: bytes | None = None
    command_ids: list[str] = field(default_factory=list)
    #: the row's id; None lets the store choose one
    record_id: str | None = None

    def answered(self, outcome: str, answer: bytes | None, command_ids: list[str]) -> InboundEntry:
        """The same message once answered: what the store keeps for resends."""
        return replace(self, outcome=outcome, answer=answer, command_ids=list(command_ids))
