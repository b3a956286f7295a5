"""Who an order's patient is: identifiers scoped to their authority, demographics that tell two people apart,
the changes a later order makes, and the technician's decision on a conflict (docs/patient-matching.md).

An identifier without an assigning authority (HL7 PID-3.4 empty, a FHIR Identifier without system, a bare
``Patient/example`` reference) means something only to the sender that wrote it: two senders' ``1234`` are
two patients. Such an identifier is scoped to its sender before it is matched or stored, and shown back
without that internal system.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from hub.domain.order_parts import Frozen, Identifier, PatientInfo
from hub.errors import DomainError

#: the system given to an identifier its sender assigned no authority to (never shown outside the hub)
SENDER_SYSTEM = "urn:rxhub:sender:"
#: patient_identifiers.system holds 200 characters: a longer scope is replaced by its digest
_MAX_SYSTEM = 200
#: the demographic fields an order may change only without conflict, and that are audited when it does
DEMOGRAPHIC_FIELDS = ("family_name", "given_name", "birth_date", "sex")
_UNKNOWN_SEX = {"", "U", "UNK", "UNKNOWN"}
_TOKEN = re.compile(r"[^\w]+")


class Demographics(Frozen):
    """Name, birth date and sex: what tells two people apart."""

    family_name: str | None = None
    given_name: str | None = None
    birth_date: date | None = None
    sex: str | None = None

    @classmethod
    def of(cls, info: PatientInfo) -> Demographics:
        """The demographics an order or a profile gives."""
        return cls(family_name=info.family_name, given_name=info.given_name, birth_date=info.birth_date, sex=info.sex)


class DemographicChange(Frozen):
    """One field a later order changed on a profile: old and new value, for the audit trail (never a log)."""

    field: str
    old: str | None
    new: str | None


@dataclass(frozen=True)
class IdentityConflict:
    """An order that points at a profile (by identifier, or name and birth date) whose demographics disagree."""

    existing_patient_id: str
    #: the identifier the order shares with the profile; None when name and birth date found it
    identifier: Identifier | None
    #: names of the fields that disagree (``birth_date``, ``sex``, ``name``), never their values
    fields: tuple[str, ...]


class ConflictStatus(StrEnum):
    """Where an identity conflict stands: waiting for a technician, or decided once and for all."""

    OPEN = "open"
    LINKED = "linked"
    KEPT_APART = "kept_apart"


class Decision(StrEnum):
    """A technician's answer to an identity conflict."""

    LINK = "link"
    KEEP_APART = "keep_apart"


class AlreadyDecided(DomainError):
    """An identity conflict is decided once: a second decision is refused (the API answers 409)."""

    def __init__(self, conflict_id: str, status: str) -> None:
        super().__init__(f"identity conflict {conflict_id} is already {status}")
        self.conflict_id = conflict_id
        self.status = status


def decided(conflict_id: str, status: ConflictStatus, decision: Decision) -> ConflictStatus:
    """The status a decision gives an open conflict; AlreadyDecided when it is not open."""
    if status is not ConflictStatus.OPEN:
        raise AlreadyDecided(conflict_id, status.value)
    return ConflictStatus.LINKED if decision is Decision.LINK else ConflictStatus.KEPT_APART


def sender_system(owner: str) -> str:
    """The system of the identifiers ``owner`` (the authenticated sender) gave without an authority."""
    system = SENDER_SYSTEM + owner
    if len(system) <= _MAX_SYSTEM:
        return system
    return SENDER_SYSTEM + "sha256:" + hashlib.sha256(owner.encode()).hexdigest()


def scoped_to_sender(info: PatientInfo, owner: str | None) -> PatientInfo:
    """The order's patient with each identifier that names no authority scoped to the sender that owns the order.

    ``owner`` None (a command from before doors recorded their principal): unchanged, as such orders were
    always matched.
    """
    if owner is None or all(_has_system(i) for i in info.identifiers):
        return info
    system = sender_system(owner)
    scoped = tuple(i if _has_system(i) else i.model_copy(update={"system": system}) for i in info.identifiers)
    return info.model_copy(update={"identifiers": scoped})


def as_sent(identifier: Identifier) -> Identifier:
    """The identifier as its sender gave it: without the system the hub scoped it with."""
    if identifier.system is not None and identifier.system.startswith(SENDER_SYSTEM):
        return identifier.model_copy(update={"system": None})
    return identifier


def all_as_sent(identifiers: Iterable[Identifier]) -> list[Identifier]:
    """``as_sent`` of each, without repeats (two senders' scoped ``1234`` read the same once unscoped)."""
    shown: list[Identifier] = []
    for identifier in map(as_sent, identifiers):
        if identifier not in shown:
            shown.append(identifier)
    return shown


def identifiers_for_sender(profile: Iterable[Identifier], order: Iterable[Identifier]) -> list[Identifier]:
    """The profile's identifiers to quote in messages about an order: every authority's, and of those scoped
    to a sender only the ones the order itself gave (another sender's local number means nothing here)."""
    own = {i.value.strip() for i in order if not _has_system(i)}
    return all_as_sent(i for i in profile if not _scoped(i) or i.value.strip() in own)


def conflicting_fields(known: Demographics, order: PatientInfo) -> tuple[str, ...]:
    """The fields on which an order's patient cannot be the known one, each judged only when both say it.

    Birth dates that differ; sexes that differ (an unknown sex agrees with any); names without a word in
    common (given and family names together, so a new family name with the same given name still agrees).
    """
    fields: list[str] = []
    if known.birth_date and order.birth_date and known.birth_date != order.birth_date:
        fields.append("birth_date")
    sexes = _sex(known.sex), _sex(order.sex)
    if all(sexes) and sexes[0] != sexes[1]:
        fields.append("sex")
    names = _name_words(known.given_name, known.family_name), _name_words(order.given_name, order.family_name)
    if all(names) and not names[0] & names[1]:
        fields.append("name")
    return tuple(fields)


def demographic_updates(known: PatientInfo, order: PatientInfo) -> dict[str, object]:
    """What an order that agrees with the profile changes of its name, birth date and sex.

    A field the order leaves out, an unknown sex and a name in other letter case change nothing.
    """
    updates: dict[str, object] = {}
    for name in DEMOGRAPHIC_FIELDS:
        new, old = getattr(order, name), getattr(known, name)
        if not new or (name == "sex" and _sex(new) is None and old):
            continue
        if isinstance(new, str) and isinstance(old, str) and new.casefold() == old.casefold():
            continue
        if new != old:
            updates[name] = new
    return updates


def demographic_changes(before: PatientInfo, after: PatientInfo) -> tuple[DemographicChange, ...]:
    """The name, birth date and sex changes between two versions of a profile, old value and new."""
    return tuple(
        DemographicChange(field=name, old=_text(getattr(before, name)), new=_text(getattr(after, name)))
        for name in DEMOGRAPHIC_FIELDS
        if getattr(before, name) != getattr(after, name)
    )


def _has_system(identifier: Identifier) -> bool:
    return bool(identifier.system and identifier.system.strip())


def _scoped(identifier: Identifier) -> bool:
    return identifier.system is not None and identifier.system.startswith(SENDER_SYSTEM)


def _sex(value: str | None) -> str | None:
    normal = (value or "").strip().upper()
    return None if normal in _UNKNOWN_SEX else normal


def _name_words(*parts: str | None) -> set[str]:
    return {word for part in parts if part for word in _TOKEN.split(part.casefold()) if word}


def _text(value: object) -> str | None:
    if value is None:
        return None
    return value.isoformat() if isinstance(value, date) else str(value)
