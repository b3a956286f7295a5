"""The envelope every command travels in, and the ids that tie an order's messages together.

Ids are derived, not random, where a sender may resend: the same HL7 message (MSH-3/4 + MSH-10) always
yields the same command ids, so a worker can drop a redelivery or a resend by id alone.
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, datetime
from typing import Any

import orjson
from pydantic import BaseModel, ConfigDict, Field

from hub.domain.commands import COMMAND_TYPES, Command
from hub.domain.order_parts import Source
from hub.domain.storable import first_unstorable
from hub.errors import MessageContentError

#: namespace for every uuid5 the hub derives
RXHUB_NAMESPACE = uuid.UUID("6f1c3c1e-3b59-4b8e-9d0e-2a1f4f1e7a11")
_NAMESPACE_BYTES = RXHUB_NAMESPACE.bytes
#: the version (5) and variant (RFC 4122) bits of a name-based SHA-1 UUID
_VERSION_MASK, _VERSION_5 = ~(0xF000 << 64) & ~(0xC000 << 48), (0x5000 << 64) | (0x8000 << 48)
SCHEMA_VERSION = 1


def name_uuid(name: str) -> uuid.UUID:
    """``uuid.uuid5(RXHUB_NAMESPACE, name)``, in 40% of its time: the stdlib's ``UUID(bytes=..., version=5)``
    parses what can be set as one integer. The hub derives a dozen ids an order, on every step."""
    digest = int.from_bytes(hashlib.sha1(_NAMESPACE_BYTES + name.encode(), usedforsecurity=False).digest()[:16])
    return uuid.UUID(int=(digest & _VERSION_MASK) | _VERSION_5)


def order_correlation_id(placer_system: str | None, placer_order_number: str, *, owner: str | None = None) -> uuid.UUID:
    """One correlation id per order, the same for its new order and its cancel: an order is identified by
    its owner (the principal that sent it) and its placer number, so another feed's cancel or read with
    the same number names another order. ``owner`` None: verbal orders, and orders stored before owners."""
    if owner is None:
        return name_uuid(f"order|{placer_system or ''}|{placer_order_number}")
    return name_uuid(f"order|{owner}|{placer_system or ''}|{placer_order_number}")


def derived_message_id(*parts: object) -> uuid.UUID:
    """A stable message id from the parts that identify an inbound message (e.g. sender and MSH-10)."""
    return name_uuid("|".join(str(p) for p in parts))


def utcnow() -> datetime:
    """Timezone-aware now, the only clock the messaging layer reads."""
    return datetime.now(UTC)


class Envelope(BaseModel):
    """A command with its identity: what it is, which order it belongs to, what caused it, who and when."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    message_id: uuid.UUID = Field(default_factory=uuid.uuid4)
    type: str
    schema_version: int = SCHEMA_VERSION
    correlation_id: uuid.UUID
    causation_id: uuid.UUID | None = None
    source: Source
    time: datetime = Field(default_factory=utcnow)
    #: the staff user (users.id) who caused it, when there is one: the workers read role and licence by it
    actor: str | None = None
    #: who authenticated the message at the door (``feed:NAME``, ``hl7:APP|FAC`` for an unbound sender on
    #: loopback, ``user:NAME``, ``hub``): what the audit records and what owns an order; None before doors
    #: recorded it
    principal: str | None = None
    payload: dict[str, Any]

    @classmethod
    def wrap(
        cls,
        command: Command,
        *,
        correlation_id: uuid.UUID,
        source: Source,
        message_id: uuid.UUID | None = None,
        causation_id: uuid.UUID | None = None,
        actor: str | None = None,
        principal: str | None = None,
    ) -> Envelope:
        """Put a command in an envelope."""
        return cls(
            message_id=message_id or uuid.uuid4(),
            type=command.name,
            correlation_id=correlation_id,
            causation_id=causation_id,
            source=source,
            actor=actor,
            principal=principal,
            payload=command.model_dump(mode="json"),
        )

    def command(self) -> Command:
        """Decode the payload into its command type; text no database can hold is bad content, refused
        at once (the doors refuse it first; this keeps anything else from failing every retry)."""
        cls = COMMAND_TYPES.get(self.type)
        if cls is None:
            raise MessageContentError(f"unknown command type {self.type!r}")
        found = first_unstorable(self.payload)
        if found is not None:
            raise MessageContentError(found.describe(found.dotted("payload")))
        return cls.model_validate(self.payload)

    def to_bytes(self) -> bytes:
        """Wire form: compact JSON."""
        return self.model_dump_json().encode()

    @classmethod
    def from_bytes(cls, body: bytes) -> Envelope:
        """Parse the wire form; a broken body is a content error, never a crash."""
        try:
            return cls.model_validate(orjson.loads(body))
        except (ValueError, TypeError) as exc:
            raise MessageContentError(f"undecodable envelope: {exc}") from exc
