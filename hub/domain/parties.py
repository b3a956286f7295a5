"""Patients and prescribers as the pharmacy keeps them, and matching an inbound order to them."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TypeVar

from hub.domain.order_parts import Allergy, Frozen, Identifier, PatientInfo, PrescriberInfo
from hub.domain.patient_identity import Demographics, IdentityConflict, conflicting_fields, demographic_updates
from hub.domain.rx_record import PrescriptionRecord


class Patient(Frozen):
    """A patient profile: identity, demographics and the allergies DUR screens against."""

    patient_id: str
    info: PatientInfo
    #: demographics of profiles a technician linked into this one (another sender's spelling, a corrected
    #: birth date): an order agreeing with one of them is this patient too
    aliases: tuple[Demographics, ...] = ()
    #: the profile a technician linked this one into: kept for the audit, never matched again
    merged_into: str | None = None

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

    def conflicts_with(self, info: PatientInfo) -> tuple[str, ...]:
        """The fields on which the order's patient cannot be this one (none when a linked alias agrees)."""
        fields = conflicting_fields(Demographics.of(self.info), info)
        if fields and any(not conflicting_fields(alias, info) for alias in self.aliases):
            return ()
        return fields

    def merged_with(self, info: PatientInfo) -> Patient:
        """The profile updated by a later order of this patient.

        Identifiers and allergies are added, never forgotten; address and phone take the order's. Name, birth
        date and sex change only when the order agrees with the profile itself (one that matched by a linked
        alias changes none of them): ``demographic_changes`` of before and after is what to audit.
        """
        updates: dict[str, object] = {name: getattr(info, name) for name in ("address", "phone") if getattr(info, name)}
        if not conflicting_fields(Demographics.of(self.info), info):
            updates |= demographic_updates(self.info, info)
        updates |= {
            "identifiers": _union(self.info.identifiers, info.identifiers),
            "allergies": merge_allergies(self.info.allergies, info.allergies),
        }
        return self.model_copy(update={"info": self.info.model_copy(update=updates)})

    def absorbing(self, other: Patient) -> Patient:
        """This profile once a technician linked ``other`` into it: its identifiers and allergies added, its
        demographics kept as an alias when they are not this profile's."""
        merged = self.info.model_copy(
            update={
                "identifiers": _union(self.info.identifiers, other.info.identifiers),
                "allergies": merge_allergies(self.info.allergies, other.info.allergies),
            }
        )
        alias = Demographics.of(other.info)
        aliases = self.aliases if alias == Demographics.of(self.info) else _union(self.aliases, (alias,))
        return self.model_copy(update={"info": merged, "aliases": _union(aliases, other.aliases)})

    def linked_into(self, other: Patient) -> Patient:
        """This profile retired into ``other`` by a technician's link: kept, never matched again."""
        return self.model_copy(update={"merged_into": other.patient_id})


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


@dataclass(frozen=True)
class PatientMatching:
    """What matching found: the profile to update, or none (a new patient), with the conflict that kept an
    order off a profile its identifier or name and birth date pointed at."""

    patient: Patient | None = None
    conflict: IdentityConflict | None = None


def match_patient(candidates: Iterable[Patient], info: PatientInfo) -> PatientMatching:
    """The profile this order's patient is: same identifier (value and system), else same name and birth date;
    never one whose demographics conflict (``Patient.conflicts_with``): that is a conflict for a technician.

    Name alone never matches: two patients with one name are common, a wrong match mixes their profiles. Name
    and birth date match only a profile that holds no other identifier of an authority the order names (two
    numbers of one authority are two people). A profile linked into another is never matched.
    """
    pool = [patient for patient in candidates if patient.merged_into is None]
    wanted = {_id_key(i): i for i in info.identifiers}
    conflict: IdentityConflict | None = None
    for patient in pool:
        shared = sorted(wanted.keys() & {_id_key(i) for i in patient.info.identifiers})
        if not shared:
            continue
        fields = patient.conflicts_with(info)
        if not fields:
            return PatientMatching(patient)
        conflict = conflict or IdentityConflict(patient.patient_id, wanted[shared[0]], fields)
    if conflict is not None or info.birth_date is None or not info.family_name:
        return PatientMatching(None, conflict)
    for patient in pool:
        if not _same_person(patient.info, info) or _another_number(patient.info, info):
            continue
        fields = patient.conflicts_with(info)  # name and birth date agree: the sex may not
        if not fields:
            return PatientMatching(patient)
        conflict = conflict or IdentityConflict(patient.patient_id, None, fields)
    return PatientMatching(None, conflict)


def move_prescription(rx: PrescriptionRecord, patient: Patient) -> None:
    """A prescription of a profile linked into ``patient`` now belongs to it (the name on its label too); the
    identifiers and allergies it was received with stay as the order gave them."""
    rx.patient_id, rx.patient_name = patient.patient_id, patient.display_name


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


def _another_number(known: PatientInfo, new: PatientInfo) -> bool:
    """The known patient holds an identifier of a system the order names, with another value."""
    systems = {system: value for value, system in map(_id_key, new.identifiers) if system}
    return any(systems.get(system, value) != value for value, system in map(_id_key, known.identifiers))


def merge_allergies(old: tuple[Allergy, ...], new: tuple[Allergy, ...]) -> tuple[Allergy, ...]:
    """Allergies of a profile and a later report: none forgotten, one substance once, with every reaction."""
    merged = list(old)
    for allergy in new:
        at = next((i for i, known in enumerate(merged) if known.same_substance(allergy)), None)
        if at is None:
            merged.append(allergy)
        else:
            merged[at] = merged[at].updated_by(allergy)
    return tuple(merged)


def _union(old: tuple[T, ...], new: tuple[T, ...]) -> tuple[T, ...]:
    return old + tuple(item for item in new if item not in old)
