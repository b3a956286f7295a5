"""The two kinds of message the hub passes: commands (do this) and events (this happened).

Every command and event type subclasses one of these and names itself once, in ``name``; the registries of
types by name are ``hub.domain.commands.COMMAND_TYPES`` and ``hub.domain.events.EVENT_TYPES``, which list
every type explicitly (nothing registers itself on import, so no type is missing for want of an import).
"""

from __future__ import annotations

from typing import ClassVar

from hub.domain.order_parts import Frozen


class Command(Frozen):
    """Base of every command; ``name`` is its wire type and routing key."""

    name: ClassVar[str] = ""


class Event(Frozen):
    """Base of every event; ``name`` is its CloudEvents type and routing key."""

    name: ClassVar[str] = ""
    #: the prescription this event is about (the CloudEvents ``subject``)
    prescription_id: str
