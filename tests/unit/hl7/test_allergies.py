"""AL1 to allergies: AL1-5 reactions (every repetition) and AL1-4 severity in words, never the raw code."""

from __future__ import annotations

import pytest

from adapters.hl7.mapping import to_commands
from adapters.hl7.parsing import parse_message
from hub.domain.commands import ReceivePrescription
from hub.domain.order_parts import Allergy
from tests.unit.hl7.test_mapping import MSH, ORC, PID, PV1, RXE, RXR


def allergies(*al1: str) -> tuple[Allergy, ...]:
    [command] = to_commands(parse_message("\r".join((MSH, PID, PV1, *al1, ORC, RXE, RXR)).encode()))
    assert isinstance(command, ReceivePrescription)
    return command.patient.allergies


def test_reactions_and_severity_in_words() -> None:
    [allergy] = allergies("AL1|1|DA|7980^Penicillin^RXNORM|SV|Hives~Anaphylaxis")
    assert allergy == Allergy(
        text="Penicillin", code="7980", system="RXNORM", severity="severe", reactions=("Hives", "Anaphylaxis")
    )


@pytest.mark.parametrize(
    ("severity", "words"),
    [
        ("MO", "moderate"),
        ("MI", "mild"),
        ("sv", "severe"),
        ("U", None),
        ("", None),
        ("XX^Life threatening", "Life threatening"),
    ],
)
def test_table_0128_severity(severity: str, words: str | None) -> None:
    [allergy] = allergies(f"AL1|1|DA|^Sulfa|{severity}")
    assert allergy.severity == words


def test_coded_reaction_gives_its_text() -> None:
    [allergy] = allergies("AL1|1|DA|^Latex|MI|39579001^Anaphylaxis^SCT~Rash")
    assert allergy.reactions == ("Anaphylaxis", "Rash")


def test_no_reaction_is_none() -> None:
    [allergy] = allergies("AL1|1|DA|^Codeine|MO")
    assert allergy.reactions == ()
