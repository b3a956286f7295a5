"""ACK correlation: only MSA-2 = our MSH-10 settles a message; the receiver's error text is kept."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.hl7.acks import build_ack
from adapters.hl7.message_model import Hl7Header
from adapters.hl7.outbound.ack_reading import AckKind, read_ack
from hub.errors import Problem

SENT = "0F8FAD5BD9CB469FA165"


def _ack(code: str, control_id: str = SENT, version: str = "2.5.1", problems: list[Problem] | None = None) -> bytes:
    request = Hl7Header(control_id=control_id, version=version, trigger_event="O13", sending_application="RXHUB")
    return build_ack(request, code, problems or [], sending_application="EHR", sending_facility="H", control_id="A1")


@pytest.mark.parametrize(
    ("code", "kind"),
    [
        ("AA", AckKind.ACCEPTED),
        ("CA", AckKind.ACCEPTED),
        ("AE", AckKind.ERROR),
        ("CE", AckKind.ERROR),
        ("AR", AckKind.REJECTED),
        ("CR", AckKind.REJECTED),
        ("ZZ", AckKind.REJECTED),
    ],
)
def test_codes(code: str, kind: AckKind) -> None:
    verdict = read_ack(_ack(code), SENT)
    assert (verdict.kind, verdict.code, verdict.control_id) == (kind, code, SENT)


def test_an_ack_for_another_message_is_stray_whatever_its_code() -> None:
    for code in ("AA", "AE", "AR"):
        verdict = read_ack(_ack(code, control_id="PREVIOUS"), SENT)
        assert verdict.kind is AckKind.STRAY
        assert "PREVIOUS" in verdict.text


@pytest.mark.parametrize("frame", [b"", b"garbage", b"\x06", b"MSH|^~\\&|A|B\rPID|1\r"])
def test_unreadable_or_msa_less_frames_are_stray(frame: bytes) -> None:
    assert read_ack(frame, SENT).kind is AckKind.STRAY


def test_v25_error_text_comes_from_err() -> None:
    problem = Problem("101", "RXD-2 give code is empty", "RXD^1^2")
    verdict = read_ack(_ack("AE", problems=[problem]), SENT)
    assert verdict.kind is AckKind.ERROR
    assert verdict.text == "RXD^1^2 [101] RXD-2 give code is empty"


def test_v23_error_text_comes_from_err_1_elements() -> None:
    problem = Problem("103", "unknown unit", "RXD^1^5")
    verdict = read_ack(_ack("AE", version="2.3", problems=[problem]), SENT)
    assert verdict.text == "Table value not found"


def test_msa_3_is_the_fallback_text() -> None:
    raw = f"MSH|^~\\&|EHR|H|||20250101||ACK|1|P|2.3\rMSA|AE|{SENT}|Unknown patient\r".encode()
    assert read_ack(raw, SENT).text == "Unknown patient"


@given(st.binary(max_size=300))
def test_arbitrary_frames_never_raise_and_never_accept(frame: bytes) -> None:
    assert read_ack(frame, SENT).kind is not AckKind.ACCEPTED or SENT.encode() in frame


@given(st.text(alphabet=st.characters(codec="ascii", exclude_characters="|^~\\&\r\n"), max_size=25))
def test_only_the_exact_control_id_matches(other: str) -> None:
    verdict = read_ack(_ack("AA", control_id=other), SENT)
    assert (verdict.kind is AckKind.ACCEPTED) == (other.strip() == SENT)
