"""ACK content and shape, checked against python-hl7 and hl7apy's structure tables (STRICT)."""

from __future__ import annotations

from datetime import UTC, datetime

import hl7
import pytest
from hl7apy.consts import VALIDATION_LEVEL
from hl7apy.core import Message
from hl7apy.parser import parse_segments

from adapters.hl7.acks import AckMode, ack_policy, application_ack_wanted, build_ack, commit_ack_wanted
from adapters.hl7.mapping import to_commands
from adapters.hl7.message_model import Hl7Header
from adapters.hl7.parsing import parse_message
from adapters.hl7.validation import SUPPORTED_VERSIONS, validate_header
from hub.errors import InboundMessageError, Problem
from tests.unit.hl7.corpus import sample, sample_names

NOW = datetime(2025, 1, 1, 12, 0, tzinfo=UTC)
REQUEST = Hl7Header(
    sending_application="EHR",
    sending_facility="HOSP^1.2.3^ISO",
    message_type="RDE",
    trigger_event="O11",
    control_id="MSG00042",
    processing_id="P",
    version="2.5.1",
)
PROBLEMS = [Problem("101", "RXE-2 give code is empty", "RXE^1^2"), Problem("102", "bad date", "PID^1^7")]


def ack(request: Hl7Header | None, code: str, problems: list[Problem] | tuple[()] = (), **kw: str) -> str:
    raw = build_ack(
        request,
        code,
        problems,
        sending_application="RXHUB",
        sending_facility="PHARM",
        control_id="ACK1",
        now=NOW,
        **kw,
    )
    return raw.decode("latin-1")


def strict_hl7apy(er7: str, version: str) -> Message:
    """hl7apy cannot infer the ACK structure before v2.3.1 (no MSH-9.3), so name it and validate STRICT."""
    msg = Message("ACK", version=version, validation_level=VALIDATION_LEVEL.STRICT)
    msg.children = parse_segments(
        er7.strip("\r"), version=version, validation_level=VALIDATION_LEVEL.STRICT, references=msg.reference
    )
    msg.validate()
    return msg


def test_accept_ack_echoes_the_request() -> None:
    text = ack(REQUEST, "AA")
    assert text == (
        "MSH|^~\\&|RXHUB|PHARM|EHR|HOSP^1.2.3^ISO|20250101120000+0000||ACK^O11^ACK|ACK1|P|2.5.1\r"
        "MSA|AA|MSG00042|Message accepted\r"
    )


def test_v25_error_ack_has_one_err_per_problem() -> None:
    text = ack(REQUEST, "AE", PROBLEMS)
    segments = text.strip("\r").split("\r")
    assert segments[1] == "MSA|AE|MSG00042|RXE-2 give code is empty"
    assert segments[2:] == [
        "ERR||RXE^1^2|101^Required field missing^HL70357|E||||RXE-2 give code is empty",
        "ERR||PID^1^7|102^Data type error^HL70357|E||||bad date",
    ]
    parsed = strict_hl7apy(text, "2.5.1")
    assert [e.err_2.to_er7() for e in parsed.err] == ["RXE^1^2", "PID^1^7"]


@pytest.mark.parametrize("version", ["2.3", "2.3.1", "2.4"])
def test_pre_v25_error_goes_into_one_err_with_repeating_eld(version: str) -> None:
    text = ack(REQUEST.model_copy(update={"version": version}), "AE", PROBLEMS)
    segments = text.strip("\r").split("\r")
    assert segments[1] == "MSA|AE|MSG00042|RXE-2 give code is empty|||101^Required field missing^HL70357"
    assert segments[2:] == ["ERR|RXE^1^2^101&Required field missing&HL70357~PID^1^7^102&Data type error&HL70357"]
    assert ("ACK^O11^ACK" in segments[0]) is (version != "2.3")
    parsed = strict_hl7apy(text, version)
    assert parsed.msa.msa_2.to_er7() == "MSG00042"


@pytest.mark.parametrize(("code", "problem"), [("200", "type"), ("201", "event"), ("203", "version")])
def test_reject_codes(code: str, problem: str) -> None:
    text = ack(REQUEST, "AR", [Problem(code, f"unsupported {problem}", "MSH^1^9")])
    assert f"MSA|AR|MSG00042|unsupported {problem}\r" in text
    assert f"|{code}^" in text


def test_text_argument_overrides_msa_3_and_is_escaped_and_bounded() -> None:
    text = ack(REQUEST, "AE", PROBLEMS, text="a|b^c " + "x" * 200)
    msa = text.split("\r")[1]
    assert msa.startswith("MSA|AE|MSG00042|a\\F\\b\\S\\c x") and len(msa.split("|")[3]) <= 80 + 4


def test_unreadable_request_still_gets_an_ack_with_known_control_id() -> None:
    text = ack(Hl7Header(control_id="MSGID"), "AE", [Problem("102", "MSH-2 invalid", "MSH^1^2")])
    assert text.startswith("MSH|^~\\&|RXHUB|PHARM|||20250101120000+0000||ACK^^ACK|ACK1|P|2.5.1\r")
    assert hl7.parse(text).segment("MSA")[2] == ["MSGID"]
    assert ack(None, "AR").split("\r")[1] == "MSA|AR|"


def test_request_charset_is_declared_and_used() -> None:
    raw = build_ack(
        REQUEST.model_copy(update={"charset": "8859/1", "version": "2.3"}),
        "AE",
        [Problem("101", "Müller: RXE-2 fehlt", "RXE^1^2")],
        sending_application="RXHUB",
        sending_facility="PHARM",
        control_id="A",
        now=NOW,
    )
    assert raw.split(b"\r")[0].endswith(b"|2.3||||||8859/1") and "Müller".encode("latin-1") in raw


def test_non_ascii_text_without_request_charset_is_declared_utf8() -> None:
    raw = build_ack(
        REQUEST,
        "AE",
        [Problem("101", "Müller", "")],
        sending_application="RX",
        sending_facility="P",
        control_id="A",
    )
    assert raw.split(b"\r")[0].endswith(b"|2.5.1||||||UNICODE UTF-8") and "Müller".encode() in raw


@pytest.mark.parametrize("name", sample_names())
def test_ack_for_every_corpus_file_parses_and_echoes_msh10(name: str) -> None:
    request: Hl7Header | None = None
    try:
        msg = parse_message(sample(name))
        request = msg.header
        validate_header(request)
        to_commands(msg)
        code, problems = "AA", []
    except InboundMessageError as exc:
        request = request or Hl7Header(control_id=exc.control_id)
        code, problems = "AE", exc.problems
    text = ack(request, code, problems)
    assert hl7.parse(text).segment("MSA")[2] == [request.control_id]
    # MSA-2 is required, so a message without MSH-10 can only get an invalid ACK; v2.1 ACKs are best effort
    if request.control_id and request.version in SUPPORTED_VERSIONS | {""}:
        version = {"": "2.5.1", "2.7.1": "2.7"}.get(request.version, request.version)
        assert strict_hl7apy(text, version).msa.msa_2.to_er7() == request.control_id


def test_original_mode_always_acks_with_a_codes() -> None:
    policy = ack_policy(REQUEST)
    assert (policy.mode, policy.on_success, policy.on_error) == (AckMode.ORIGINAL, True, True)
    assert (AckMode.ORIGINAL.accept, AckMode.ORIGINAL.error, AckMode.ORIGINAL.reject) == ("AA", "AE", "AR")


@pytest.mark.parametrize(
    ("msh15", "on_success", "on_error"),
    [("AL", True, True), ("NE", False, False), ("ER", False, True), ("SU", True, False), ("", True, True)],
)
def test_enhanced_mode_follows_msh15(msh15: str, on_success: bool, on_error: bool) -> None:
    header = REQUEST.model_copy(update={"accept_ack_type": msh15, "application_ack_type": "AL"})
    policy = ack_policy(header)
    assert (policy.mode, policy.on_success, policy.on_error) == (AckMode.ENHANCED, on_success, on_error)
    assert commit_ack_wanted(header, success=True) is on_success
    assert (AckMode.ENHANCED.accept, AckMode.ENHANCED.error, AckMode.ENHANCED.reject) == ("CA", "CE", "CR")


def test_application_ack_follows_msh16_in_enhanced_mode_only() -> None:
    assert application_ack_wanted(REQUEST, success=True) is False
    header = REQUEST.model_copy(update={"accept_ack_type": "AL", "application_ack_type": "ER"})
    assert (application_ack_wanted(header, True), application_ack_wanted(header, False)) == (False, True)
