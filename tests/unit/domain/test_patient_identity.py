"""Patient matching that cannot merge two people: scoped identifiers, conflicting demographics, audited
changes and the technician's decision (docs/patient-matching.md)."""

from __future__ import annotations

from datetime import date

import pytest

from hub.domain.order_parts import Allergy, Identifier, PatientInfo
from hub.domain.parties import Patient, match_patient
from hub.domain.patient_identity import (
    SENDER_SYSTEM,
    AlreadyDecided,
    ConflictStatus,
    Decision,
    DemographicChange,
    Demographics,
    all_as_sent,
    conflicting_fields,
    decided,
    demographic_changes,
    identifiers_for_sender,
    scoped_to_sender,
)

MRN = Identifier(value="1234", type_code="MR")
HOSP = Identifier(value="1234", system="HOSP", type_code="MR")
JANE = PatientInfo(identifiers=(MRN,), family_name="DOE", given_name="JANE", birth_date=date(1980, 1, 1), sex="F")
JOHN = PatientInfo(identifiers=(MRN,), family_name="SMITH", given_name="JOHN", birth_date=date(1970, 1, 1), sex="M")


def _profile(pid: str, info: PatientInfo, owner: str | None = "feed:north") -> Patient:
    return Patient.new(pid, scoped_to_sender(info, owner))


def test_an_identifier_without_authority_is_scoped_to_its_sender_and_shown_as_sent() -> None:
    scoped = scoped_to_sender(PatientInfo(identifiers=(MRN, HOSP)), "feed:north")
    assert scoped.identifiers == (MRN.model_copy(update={"system": SENDER_SYSTEM + "feed:north"}), HOSP)
    assert scoped_to_sender(PatientInfo(identifiers=(MRN,)), None).identifiers == (MRN,)
    assert all_as_sent(scoped.identifiers) == [MRN, HOSP]
    long_owner = "hl7:" + "A" * 300
    system = scoped_to_sender(PatientInfo(identifiers=(MRN,)), long_owner).identifiers[0].system
    assert system is not None and system.startswith(SENDER_SYSTEM) and len(system) <= 200


def test_messages_quote_only_this_senders_local_identifiers() -> None:
    south = scoped_to_sender(PatientInfo(identifiers=(Identifier(value="77"),)), "feed:south").identifiers
    profile = (*scoped_to_sender(PatientInfo(identifiers=(MRN,)), "feed:north").identifiers, HOSP, *south)
    assert identifiers_for_sender(profile, (MRN,)) == [MRN, HOSP]


def test_two_senders_same_local_number_are_two_patients() -> None:
    jane = _profile("p-jane", JANE, "hl7:NORTH|A")
    found = match_patient([jane], scoped_to_sender(JOHN, "hl7:SOUTH|B"))
    assert found.patient is None and found.conflict is None


def test_same_authority_and_agreeing_demographics_match() -> None:
    jane = _profile("p-jane", JANE.model_copy(update={"identifiers": (HOSP,)}))
    order = PatientInfo(identifiers=(HOSP,), family_name="Doe", given_name="Jane", birth_date=date(1980, 1, 1), sex="U")
    assert match_patient([jane], order).patient is jane
    other_authority = order.model_copy(update={"identifiers": (HOSP.model_copy(update={"system": "CLINIC"}),)})
    assert match_patient([jane], other_authority.model_copy(update={"birth_date": None})).patient is None


def test_same_identifier_with_conflicting_demographics_is_a_conflict_not_a_merge() -> None:
    jane = _profile("p-jane", JANE)
    found = match_patient([jane], scoped_to_sender(JOHN, "feed:north"))
    assert found.patient is None and found.conflict is not None
    assert found.conflict.existing_patient_id == "p-jane"
    assert found.conflict.fields == ("birth_date", "sex", "name")
    assert found.conflict.identifier is not None and found.conflict.identifier.value == "1234"


@pytest.mark.parametrize(
    ("change", "fields"),
    [
        ({"birth_date": date(1980, 1, 2)}, ("birth_date",)),
        ({"sex": "M"}, ("sex",)),
        ({"sex": "U"}, ()),
        ({"sex": None, "birth_date": None}, ()),
        ({"given_name": "Janet", "family_name": "Roe"}, ("name",)),
        ({"family_name": "Roe"}, ()),  # married: a new family name, the same given name
        ({"given_name": None, "family_name": None}, ()),  # no name to judge
        ({"given_name": "Mary-Jane", "family_name": "Roe"}, ()),
    ],
)
def test_which_fields_conflict(change: dict[str, object], fields: tuple[str, ...]) -> None:
    assert conflicting_fields(Demographics.of(JANE), JANE.model_copy(update=change)) == fields


def test_the_profile_an_order_agrees_with_wins_over_one_it_conflicts_with() -> None:
    jane = _profile("a-jane", JANE)
    john = _profile("b-john", JOHN)  # a conflict's new profile: same scoped number, its own demographics
    assert match_patient([jane, john], scoped_to_sender(JOHN, "feed:north")).patient is john
    assert match_patient([jane, john], scoped_to_sender(JANE, "feed:north")).patient is jane


def test_name_and_birth_date_match_only_when_the_sex_and_the_authoritys_numbers_agree() -> None:
    known = _profile("p1", JANE.model_copy(update={"identifiers": (HOSP,)}))
    bare = JANE.model_copy(update={"identifiers": ()})
    assert match_patient([known], bare).patient is known
    assert match_patient([known], bare.model_copy(update={"sex": None})).patient is known
    other_sex = match_patient([known], bare.model_copy(update={"sex": "M"}))
    assert other_sex.patient is None and other_sex.conflict is not None
    assert other_sex.conflict.identifier is None and other_sex.conflict.fields == ("sex",)
    two_numbers = match_patient(
        [known], bare.model_copy(update={"identifiers": (Identifier(value="9999", system="HOSP"),)})
    )
    assert two_numbers.patient is None and two_numbers.conflict is None, "two MRNs of one authority: two people"


def test_a_linked_profile_is_never_matched() -> None:
    jane = _profile("p1", JANE)
    retired = jane.linked_into(_profile("p0", JANE))
    assert match_patient([retired], scoped_to_sender(JANE, "feed:north")).patient is None


def test_a_name_change_that_agrees_is_applied_and_reported_old_and_new() -> None:
    jane = _profile("p1", JANE)
    married = scoped_to_sender(JANE.model_copy(update={"family_name": "ROE", "phone": "555-0100"}), "feed:north")
    assert match_patient([jane], married).patient is jane
    after = jane.merged_with(married)
    assert after.info.family_name == "ROE" and after.info.phone == "555-0100"
    assert demographic_changes(jane.info, after.info) == (DemographicChange(field="family_name", old="DOE", new="ROE"),)


def test_nothing_unknown_or_in_other_letters_overwrites_the_profile() -> None:
    jane = _profile("p1", JANE)
    after = jane.merged_with(
        PatientInfo(family_name="Doe", given_name="Jane", sex="U", allergies=(Allergy(text="sulfa"),))
    )
    assert demographic_changes(jane.info, after.info) == ()
    assert after.info.sex == "F" and [a.text for a in after.allergies] == ["sulfa"]
    filled = _profile("p2", JANE.model_copy(update={"birth_date": None, "sex": "U"})).merged_with(JANE)
    assert {
        c.field for c in demographic_changes(JANE.model_copy(update={"birth_date": None, "sex": "U"}), filled.info)
    } == {"birth_date", "sex"}


def test_a_link_keeps_the_other_demographics_as_an_alias_that_matches_without_changing_the_profile() -> None:
    jane = _profile("p1", JANE)
    typo = _profile("p2", JANE.model_copy(update={"birth_date": date(1981, 1, 1)}))
    assert jane.conflicts_with(typo.info) == ("birth_date",)
    kept = jane.absorbing(typo)
    assert kept.conflicts_with(typo.info) == ()
    assert kept.absorbing(typo).aliases == kept.aliases, "one alias per demographics"
    order = typo.info.model_copy(update={"allergies": (Allergy(text="latex"),)})
    assert match_patient([kept], order).patient is kept
    after = kept.merged_with(order)
    assert after.info.birth_date == date(1980, 1, 1) and [a.text for a in after.allergies] == ["latex"]


def test_a_conflict_is_decided_once() -> None:
    assert decided("c1", ConflictStatus.OPEN, Decision.LINK) is ConflictStatus.LINKED
    assert decided("c1", ConflictStatus.OPEN, Decision.KEEP_APART) is ConflictStatus.KEPT_APART
    with pytest.raises(AlreadyDecided):
        decided("c1", ConflictStatus.KEPT_APART, Decision.LINK)
