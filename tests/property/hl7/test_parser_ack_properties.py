"""Parser and ACK properties: arbitrary bytes raise only our errors; ACKs parse and keep MSA-2."""

from __future__ import annotations

import hl7
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.hl7.acks import build_ack
from adapters.hl7.mapping import to_commands
from adapters.hl7.message_model import Hl7Header
from adapters.hl7.parsing import parse_message
from adapters.hl7.validation import validate_header
from hub.errors import InboundMessageError, Problem
from tests.unit.hl7.corpus import sample

#: an MSH that parses, so arbitrary tails reach validation and mapping too
MSH = b"MSH|^~\\&|EHR|CLINIC|RXHUB|PHARM|20250101||RDE^O11^RDE_O11|C1|P|2.5.1\r"
SEGMENT_IDS = st.sampled_from([b"PID", b"PV1", b"AL1", b"ORC", b"RXE", b"RXO", b"RXR", b"NTE", b"TQ1", b"ZZZ"])
hl7ish = st.lists(
    st.tuples(SEGMENT_IDS, st.lists(st.binary(max_size=12), max_size=40)).map(
        lambda seg: seg[0] + b"|" + b"|".join(seg[1])
    ),
    max_size=8,
).map(b"\r".join)


def run_pipeline(raw: bytes) -> None:
    msg = parse_message(raw)
    validate_header(msg.header)
    to_commands(msg)


@settings(max_examples=300)
@given(st.binary(max_size=400))
def test_arbitrary_bytes_raise_only_inbound_message_errors(raw: bytes) -> None:
    try:
        parse_message(raw)
    except InboundMessageError:
        pass


@settings(max_examples=300)
@given(hl7ish)
def test_arbitrary_segments_after_a_good_msh_raise_only_our_errors(tail: bytes) -> None:
    try:
        run_pipeline(MSH + tail)
    except InboundMessageError:
        pass


@settings(max_examples=200)
@given(st.binary(max_size=30), st.integers(min_value=0, max_value=600))
def test_corrupted_corpus_message_raises_only_our_errors(noise: bytes, at: int) -> None:
    raw = sample("fhirconverter_rde_o11_two_orders.hl7")
    at = at * 13 % len(raw)
    try:
        run_pipeline(raw[:at] + noise + raw[at:])
    except InboundMessageError:
        pass


printable = st.text(st.characters(blacklist_categories=("Cc", "Cs")), max_size=40)


@given(printable, st.lists(st.tuples(printable, printable), max_size=4), printable, printable)
def test_ack_parses_and_preserves_msa2_whatever_the_text(
    control_id: str, texts: list[tuple[str, str]], app: str, version: str
) -> None:
    request = Hl7Header(control_id=control_id, trigger_event="O11", version=version, sending_application=app)
    problems = [Problem("101", text, location) for text, location in texts]
    raw = build_ack(request, "AE", problems, sending_application=app, sending_facility="F", control_id="A1")
    assert b"\x0b" not in raw and b"\x1c" not in raw
    parsed = hl7.parse(raw.decode("utf-8"))
    msa = parsed.segment("MSA")
    # python-hl7 reads a field of spaces alone as empty: compare what a reader of either can tell apart
    assert parsed.unescape(str(msa(2))).strip() == control_id.strip()
    assert len(parsed) == 2 + (len(problems) if problems and _modern(version) else 1 if problems else 0)


def _modern(version: str) -> bool:
    parts = version.split(".")
    if not all(p.isascii() and p.isdigit() and len(p) < 4 for p in parts):
        return True  # unreadable version: the ACK is written as 2.5.1
    return tuple(int(p) for p in parts) >= (2, 5)
