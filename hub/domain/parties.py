"""Patients and prescribers as the pharmacy keeps them, and matching an inbound order to them."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TypeVar

from hub.domain.order_parts import Allergy, Frozen, Identifier, PatientInfo, PrescriberInfo


class Patient(Frozen):
    """A patient profile: identity, demographics and the allergies DUR screens against."""

    patient_id: str
    info: PatientInfo

    @classmethod
    def new(cls, patient_id: str, info: PatientInfo) -> Patient:
        """A profile created from the first order that names this patient."""
        return cls(patient_id=patient_id, info=info)

    @property
    def allergies(self) -> tuple[Allergy, ...]:
        """Allergies on the profile."""
        return self.info.allergies

    @property
    def display_name(self) -> str:
        """Given and family name as printed on a label."""
        return " ".join(p for p in (self.info.given_name, self.info.family_name) if p)

    def merged_with(self, info: PatientInfo) -> Patient:
        """The profile updated with a new order's identifiers and allergies (never forgetting old ones)."""
        identifiers = _union(self.info.identifiers, info.identifiers)
        allergies = _union(self.info.allergies, info.allergies)
        updates = {
            name: getattr(info, name)
            for name in PatientInfo.model_fields
            if name not in ("identifiers", "allergies") and getattr(info, name)
        }
        merged = self.info.model_copy(update={**updates, "identifiers": identifiers, "allergies": allergies})
        return Patient(patient_id=self.patient_id, info=merged)


class Prescriber(Frozen):
    """A prescriber the pharmacy has seen."""

    prescriber_id: str
    info: PrescriberInfo

    @classmethod
    def new(cls, prescriber_id: str, info: PrescriberInfo) -> Prescriber:
        """A prescriber record created from the first order they signed."""
        return cls(prescriber_id=prescriber_id, info=info)

    @property
    def display_name(self) -> str:
        """Name as printed on a label."""
        return " ".join(p for p in (self.info.given_name, self.info.family_name) if p)


def match_patient(candidates: Iterable[Patient], info: PatientInfo) -> Patient | None:
    """The profile this order's patient is: same identifier (value and system), else same name and birth date.

    Name alone never matches: two patients with one name are common, a wrong match mixes their profiles.
    """
    pool = list(candidates)
    wanted = {_id_key(i) for i in info.identifiers}
    for patient in pool:
        if wanted & {_id_key(i) for i in patient.info.identifiers}:
            return patient
    if info.birth_date is None or not info.family_name:
        return None
    for patient in pool:
        if _same_person(patient.info, info):
            return patient
    return None


def match_prescriber(candidates: Iterable[Prescriber], info: PrescriberInfo) -> Prescriber | None:
    """The known prescriber with this order's NPI, else its DEA number, else an identifier of the same system.

    A name alone never matches (two Dr. Smiths are common); nor does an identifier without a system, which
    two senders may both use.
    """
    pool = list(candidates)
    for attr in ("npi", "dea"):
        value = getattr(info, attr)
        if not value:
            continue
        for prescriber in pool:
            if getattr(prescriber.info, attr) == value:
                return prescriber
    wanted = _system_ids(info)
    for prescriber in pool:
        if wanted & _system_ids(prescriber.info):
            return prescriber
    return None


def identifiable(info: PrescriberInfo) -> bool:
    """Whether ``match_prescriber`` could ever find this prescriber again (else each order makes a record)."""
    return bool(info.npi or info.dea or _system_ids(info))


def _system_ids(info: PrescriberInfo) -> set[tuple[str, str]]:
    return {_id_key(i) for i in info.identifiers if i.system and i.system.strip() and i.value.strip()}


T = TypeVar("T")


def _id_key(identifier: Identifier) -> tuple[str, str]:
    return identifier.value.strip(), (identifier.system or "").strip()


def _same_person(known: PatientInfo, new: PatientInfo) -> bool:
    return (
        known.birth_date == new.birth_date
        and (known.family_name or "").casefold() == (new.family_name or "").casefold()
        and (known.given_name or "").casefold() == (new.given_name or "").casefold()
    )


def _union(old: tuple[T, ...], new: tuple[T, ...]) -> tuple[T, ...]:
    return old + tuple(item for item in new if item not in old)
