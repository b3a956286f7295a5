"""Who does a step, and the pharmacist gate (standards §5.2)."""

from __future__ import annotations

from enum import StrEnum

from hub.domain.order_parts import Frozen
from hub.errors import NotAuthorized


class Role(StrEnum):
    """What a user is allowed to do in the pharmacy."""

    TECHNICIAN = "technician"
    PHARMACIST = "pharmacist"
    ADMIN = "admin"
    #: the hub's own workers (payer responses, automated intake)
    SYSTEM = "system"
    #: a system that sends orders over HTTP (an EHR's FHIR client, an e-prescribing network)
    FEED = "feed"


class Actor(Frozen):
    """The user (or the hub itself) behind a step; pharmacists carry their licence number."""

    user_id: str
    role: Role
    name: str = ""
    licence: str | None = None


def system_actor(component: str = "hub") -> Actor:
    """The actor for steps the hub takes on its own."""
    return Actor(user_id=f"system:{component}", role=Role.SYSTEM, name=component)


def require_pharmacist(actor: Actor, action: str) -> None:
    """Refuse ``action`` unless a licensed pharmacist does it: verification, DUR override, verbal orders."""
    if actor.role is not Role.PHARMACIST:
        raise NotAuthorized(f"only a pharmacist may {action}; {actor.user_id} is a {actor.role.value}")
    if not actor.licence:
        raise NotAuthorized(f"a pharmacist must give a licence number to {action} ({actor.user_id})")
