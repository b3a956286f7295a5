"""What a door may narrow a search of the pharmacy's records by, before it matches on its own terms."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class OrderCriteria:
    """Prescriptions a search may match: every field given must hold; ``owner`` None means every sender's."""

    owner: str | None = None
    patient_id: str | None = None
    placer_order_number: str | None = None
    #: the order's correlation id or the hub's prescription id
    order_id: str | None = None
    #: at most this many, oldest first (created, then id: the same order on every page), from ``offset``
    limit: int = 1000
    offset: int = 0


@dataclass(frozen=True)
class PatientCriteria:
    """Patients a search may match; with ``owner``, only those of that principal's orders."""

    owner: str | None = None
    patient_id: str | None = None
    #: a value among the patient's identifiers (any system)
    identifier_value: str | None = None
    #: the start of the family name, any case
    family_prefix: str | None = None
    birth_date: date | None = None
    limit: int = 1000
    offset: int = 0
