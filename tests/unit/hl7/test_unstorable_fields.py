"""An HL7 message holding a NUL, raw or as a \\X00\\ escape, is refused (AE 102) at its leaf's ERL."""

from __future__ import annotations

import pytest

from adapters.hl7.parsing import parse_message
from adapters.hl7.unstorable_fields import refuse_unstorable
from hub.errors import MessageContentError

MESSAGE = (
    "\r".join(
        [
            "MSH|^~\\&|EHR|CLINIC|RXHUB|PHARMACY|20261201101500||RDE^O11^RDE_O11|CTRL-1|P|2.5.1",
            "PID|1||1234^^^^MR||DOE^JANE||19800101|F",
            "ORC|NW|ORD-1",
            "RXE||00093005801^Amoxicillin 500 MG^NDC|1||CAP",
            "NTE|1||first~second note",
        ]
    )
    + "\r"
)


@pytest.mark.parametrize(
    ("old", "new", "where", "name"),
    [
        ("DOE^JANE", "DOE^JA\\X00\\NE", "PID^1^5^1^2^1", "PID-5.2"),
        ("Amoxicillin 500 MG", "Amoxicillin\x00500 MG", "RXE^1^2^1^2^1", "RXE-2.2"),
        ("second note", "second\x00note", "NTE^1^3^2^1^1", "NTE-3.1"),
        ("ORC|NW|ORD-1", "ORC|NW|ORD-1&\\X0041\\", "ORC^1^2^1^1^2", "ORC-2.1.2"),
        ("|CTRL-1|", "|CTRL\x00-1|", "MSH^1^10^1^1^1", "MSH-10.1"),
    ],
)
def test_the_first_nul_is_refused_at_its_leaf(old: str, new: str, where: str, name: str) -> None:
    parsed = parse_message(MESSAGE.replace(old, new).encode())
    with pytest.raises(MessageContentError) as refused:
        refuse_unstorable(parsed)
    (problem,) = refused.value.problems
    assert (problem.code, problem.location) == ("102", where)
    assert problem.text == f"{name} holds a NUL (U+0000), a character the pharmacy cannot store"


def test_other_escapes_and_control_characters_pass() -> None:
    clean = MESSAGE.replace("first", "fi\\X41\\rst \\.br\\ \x01").encode()
    refuse_unstorable(parse_message(clean))
    refuse_unstorable(parse_message(MESSAGE.encode()))
