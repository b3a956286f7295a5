"""Matching an order's patient and prescriber to the pharmacy's records."""

from __future__ import annotations

from datetime import date

from hub.domain.order_parts import Allergy, Identifier, PatientInfo, PrescriberInfo
from hub.domain.parties import Patient, Prescriber, match_patient, match_prescriber

KNOWN = Patient.new(
    "p1",
    PatientInfo(
        identifiers=(Identifier(value="MRN-9", system="urn:mrn"),),
        family_name="Doe",
        given_name="Ann",
        birth_date=date(1980, 5, 5),
        allergies=(Allergy(text="sulfa"),),
    ),
)
TWIN_NAME = Patient.new("p2", PatientInfo(family_name="Doe", given_name="Ann", birth_date=date(1991, 1, 1)))


def test_match_by_identifier_with_system() -> None:
    info = PatientInfo(identifiers=(Identifier(value="MRN-9", system="urn:mrn"),))
    assert match_patient([TWIN_NAME, KNOWN], info).patient is KNOWN
    other_system = PatientInfo(identifiers=(Identifier(value="MRN-9", system="urn:other"),))
    assert match_patient([KNOWN], other_system).patient is None


def test_match_by_name_and_birth_date_never_name_alone() -> None:
    assert (
        match_patient(
            [KNOWN, TWIN_NAME], PatientInfo(family_name="DOE", given_name="ann", birth_date=date(1991, 1, 1))
        ).patient
        is TWIN_NAME
    )
    assert match_patient([KNOWN, TWIN_NAME], PatientInfo(family_name="Doe", given_name="Ann")).patient is None


def test_merge_keeps_old_allergies_and_adds_new() -> None:
    merged = KNOWN.merged_with(
        PatientInfo(allergies=(Allergy(text="penicillin"), Allergy(text="sulfa")), phone="555-0199")
    )
    assert [a.text for a in merged.allergies] == ["sulfa", "penicillin"]
    assert merged.info.phone == "555-0199" and merged.info.family_name == "Doe"
    assert merged.display_name == "Ann Doe"


def test_prescriber_matched_by_npi_then_dea() -> None:
    a = Prescriber.new("d1", PrescriberInfo(npi="1234567893"))
    b = Prescriber.new("d2", PrescriberInfo(dea="AP5836727"))
    assert match_prescriber([a, b], PrescriberInfo(npi="1234567893", dea="AP5836727")) is a
    assert match_prescriber([a, b], PrescriberInfo(dea="AP5836727")) is b
    assert match_prescriber([a, b], PrescriberInfo(family_name="Nobody")) is None


def test_prescriber_without_npi_or_dea_matched_by_an_identifier_of_the_same_system() -> None:
    local = Identifier(value="D-77", system="urn:ehr-north:staff")
    known = Prescriber.new("d3", PrescriberInfo(family_name="Smith", identifiers=(local,)))
    namesake = Prescriber.new("d4", PrescriberInfo(family_name="Smith"))
    assert match_prescriber([namesake, known], PrescriberInfo(family_name="SMITH", identifiers=(local,))) is known
    other_system = Identifier(value="D-77", system="urn:ehr-south:staff")
    assert match_prescriber([known], PrescriberInfo(identifiers=(other_system,))) is None
    assert match_prescriber([known], PrescriberInfo(identifiers=(Identifier(value="D-77"),))) is None
    assert match_prescriber([namesake, known], PrescriberInfo(family_name="Smith")) is None
