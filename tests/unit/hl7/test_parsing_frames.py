"""One MLLP frame, one message: a second MSH outside a batch envelope is refused, never read as the first's."""

from __future__ import annotations

import pytest

from adapters.hl7.parsing import parse_message
from hub.errors import MessageContentError

FIRST = b"MSH|^~\\&|EHR|NORTH|RXHUB|PHARMACY|20261201||RDE^O11^RDE_O11|A-1|P|2.5.1\rPID|1||1^^^N^MR\r"
SECOND = b"MSH|^~\\&|EHR|SOUTH|RXHUB|PHARMACY|20261201||RDE^O11^RDE_O11|B-1|P|2.5.1\rPID|1||2^^^S^MR\r"


def test_two_messages_in_one_frame_are_refused_at_the_second_msh() -> None:
    with pytest.raises(MessageContentError) as refused:
        parse_message(FIRST + SECOND)
    problem = refused.value.problems[0]
    assert (problem.code, problem.location) == ("100", "MSH^2")
    assert refused.value.control_id == "A-1"


def test_one_message_still_reads() -> None:
    assert parse_message(FIRST).header.control_id == "A-1"
