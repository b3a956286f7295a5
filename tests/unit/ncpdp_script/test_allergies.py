"""SCRIPT AllergyOrAdverseEvent: reaction and severity reach the order in words."""

from __future__ import annotations

from adapters.ncpdp.script import read_message, to_command
from hub.domain.commands import ReceivePrescription
from hub.domain.order_parts import Allergy
from tests.unit.ncpdp_script.samples import NEWRX_2017071_FULL, replace

SEVERITY = b"<SeverityCoded><Text>Severe</Text></SeverityCoded>"


def allergies(body: bytes) -> tuple[Allergy, ...]:
    command = to_command(read_message(body))
    assert isinstance(command, ReceivePrescription)
    return command.patient.allergies


def test_reaction_text_and_severity_in_words() -> None:
    body = replace(
        NEWRX_2017071_FULL,
        SEVERITY,
        b"<ReactionCoded><Text>Hives</Text><Code>247472004</Code></ReactionCoded>" + SEVERITY,
    )
    [allergy] = allergies(body)
    assert (allergy.text, allergy.reactions, allergy.severity) == ("Penicillin G", ("Hives",), "severe")


def test_coded_severity_without_text_is_translated() -> None:
    body = replace(NEWRX_2017071_FULL, SEVERITY, b"<SeverityCoded><Code>6736007</Code></SeverityCoded>")
    [allergy] = allergies(body)
    assert (allergy.severity, allergy.reactions) == ("moderate", ())
