"""How the SCRIPT door and its outbound responder key what they keep in the inbound message store.

Three kinds of row, all through ``hub.service.ports.InboundLog`` (unique per door, sender, control id):

    door "script"         sender = From with qualifier ("D:123", as ``placer_system``), id = MessageID
                          every request the hub stood by (Status 010, CancelRxResponse): dedupe + raw
    door "script-cancel"  sender "command", id = the CancelPrescription envelope id
                          the CancelRx behind a cancel command; a ``prescription.cancelled`` event names
                          that id as its CloudEvents ``causationid``, which is how the responder finds the
                          request it answers (a cancel the pharmacy made itself has no row: no answer)
    door "script-out"     sender = the prescriber's address with qualifier, id = our MessageID
                          each RxRenewalRequest sent, so a response naming only RelatesToMessageID
                          still finds the Rx number it is about

A NewRx's raw is found from its prescription: sender = ``placer_system``, id = ``raw_message_ref``
without its ``script:`` prefix (the NewRx MessageID, set by ``to_command``).
"""

from __future__ import annotations

import uuid

from hub.domain.order_parts import Source
from hub.messaging.envelope import derived_message_id

DOOR = "script"
CANCEL_INDEX_DOOR = "script-cancel"
OUTBOUND_DOOR = "script-out"
CANCEL_INDEX_SENDER = "command"
#: outcome of a stored request: accepted (Status 010) or answered at once with a CancelRxResponse
ACCEPTED = "010"
ANSWERED = "answered"
SENT = "sent"
_REF_PREFIX = f"{Source.SCRIPT.value}:"
#: Header/To|From Qualifier values (transport.xsd QualifierType); a placer system starting with one of
#: these and a colon was written by ``placer_system``
_QUALIFIERS = frozenset({"P", "C", "M", "D", "CF", "ZZZ", "PY", "DIRECT", "REMS", "PP", "SMTP"})


def message_id_of(raw_message_ref: str | None) -> str | None:
    """The SCRIPT MessageID a prescription's ``raw_message_ref`` names, when it came through this door."""
    if raw_message_ref is None or not raw_message_ref.startswith(_REF_PREFIX):
        return None
    return raw_message_ref[len(_REF_PREFIX) :] or None


def address_of(placer_system: str | None) -> tuple[str, str | None] | None:
    """(address, qualifier) of a SCRIPT placer system ("D:123" -> ("123", "D"); "123" -> ("123", None))."""
    if not placer_system:
        return None
    qualifier, sep, rest = placer_system.partition(":")
    if sep and rest and qualifier in _QUALIFIERS:
        return rest, qualifier
    return placer_system, None


def address_key(address: str, qualifier: str | None) -> str:
    """The sender key of an address, written the way ``placer_system`` writes a From."""
    return f"{qualifier}:{address}" if qualifier else address


def answer_message_id(*parts: object) -> str:
    """A MessageID (an1..35) for a message the hub writes, stable for the same cause."""
    return derived_message_id("script-message", *parts).hex


def command_index_key(command_id: uuid.UUID | str) -> tuple[str, str, str]:
    """(door, sender, control id) of the row that maps a cancel command back to its CancelRx."""
    return CANCEL_INDEX_DOOR, CANCEL_INDEX_SENDER, str(command_id)
