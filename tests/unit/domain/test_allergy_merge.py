"""A profile's allergies as later orders report them: one substance once, reactions added, none forgotten."""

from __future__ import annotations

from hub.domain.order_parts import Allergy, PatientInfo
from hub.domain.parties import Patient

PROFILE = Patient.new(
    "p1",
    PatientInfo(
        allergies=(
            Allergy(text="Penicillin", code="7980", system="RXNORM", severity="moderate", reactions=("hives",)),
            Allergy(text="sulfa"),
        )
    ),
)


def test_a_later_report_of_the_same_substance_adds_reactions_and_its_severity() -> None:
    later = PatientInfo(
        allergies=(
            Allergy(
                text="Penicillin G", code="7980", system="RXNORM", severity="severe", reactions=("anaphylaxis", "hives")
            ),
        )
    )
    merged = PROFILE.merged_with(later).allergies
    assert [(a.text, a.severity, a.reactions) for a in merged] == [
        ("Penicillin", "severe", ("hives", "anaphylaxis")),
        ("sulfa", None, ()),
    ]


def test_a_report_without_severity_keeps_the_known_one_and_text_matches_without_codes() -> None:
    later = PatientInfo(allergies=(Allergy(text="SULFA", reactions=("rash",)), Allergy(text="latex")))
    merged = PROFILE.merged_with(later).allergies
    assert [(a.text, a.severity, a.reactions) for a in merged] == [
        ("Penicillin", "moderate", ("hives",)),
        ("sulfa", None, ("rash",)),
        ("latex", None, ()),
    ]
