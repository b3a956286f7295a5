"""HL7 batches: reading an FHS/BHS envelope (adapters.hl7.batch) and writing its answer (batch_acks).

The public samples are python-hl7's VINAH batch fixtures (tests/corpus/SOURCES.md); the rest is built here.
python-hl7 (a parser we did not write) reads our response batches back as a check on their structure.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import hl7
import pytest

from adapters.hl7.batch import BatchFile, read_batch
from adapters.hl7.batch import is_batch as opens_batch
from adapters.hl7.batch_acks import batch_ack

SAMPLES = Path(__file__).resolve().parents[2] / "corpus" / "hl7v2"
NOW = datetime(2026, 12, 1, 10, 15, tzinfo=UTC)


def _msg(control_id: str, sep: str = "\r") -> str:
    return (
        sep.join(
            [
                f"MSH|^~\\&|EHR|GENHOSP|RXHUB|PHARMACY|20261201||RDE^O11^RDE_O11|{control_id}|P|2.5.1",
                "PID|1||MRN1^^^GENHOSP^MR",
                "ORC|NW|P1^EHR",
            ]
        )
        + sep
    )


def _codes(batch: BatchFile) -> list[tuple[str, str]]:
    return [(p.code, p.location) for p in batch.problems]


def _ack(control_id: str) -> bytes:
    header = f"MSH|^~\\&|RXHUB|PHARMACY|EHR|GENHOSP|20261201||ACK^O11^ACK|A{control_id}|P|2.5.1"
    return f"{header}\rMSA|AA|{control_id}\r".encode()


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (b"FHS|^~\\&|A", True),
        (b"BHS|^~\\&", True),
        (b"\xef\xbb\xbf\r\nBHS|", True),
        (b"MSH|^~\\&|A", False),
        (b"BHSX|", False),
        (b"BHS", False),
        (b"", False),
        (b"BTS|1", False),
    ],
)
def test_a_batch_opens_with_fhs_or_bhs(raw: bytes, expected: bool) -> None:
    assert opens_batch(raw) is expected


def test_the_public_file_sample_is_one_batch_of_one_message() -> None:
    raw = (SAMPLES / "pythonhl7_vinah_adt_a04_file_fhs_bhs_one_message.hl7").read_bytes()
    batch = read_batch(raw)
    assert batch.problems == ()
    assert batch.header is not None and batch.header.sending_facility == "ABCHS" and batch.header.control_id == ""
    (only,) = batch.batches
    assert only.header is not None and only.header.control_id == "abchs20070101123401-1"
    (message,) = only.messages
    assert message.startswith(b"MSH|") and message.endswith(b"PV1|1|O||||^^^^^1\r")
    assert raw.index(message) == raw.index(b"MSH|"), "a message keeps its own bytes"


def test_the_public_two_batch_sample_keeps_each_batch_apart() -> None:
    batch = read_batch((SAMPLES / "pythonhl7_vinah_adt_a04_file_two_batches.hl7").read_bytes())
    assert batch.problems == ()
    assert [len(b.messages) for b in batch.batches] == [2, 1]
    assert [b.header.control_id for b in batch.batches if b.header] == [
        "abchs20070101123401-1",
        "abchs20070101123401-2",
    ]


def test_the_public_odd_sample_with_a_bhs_inside_a_message_is_refused() -> None:
    batch = read_batch((SAMPLES / "pythonhl7_odd_vinah_adt_a04_file_bhs_inside_message.hl7").read_bytes())
    assert ("100", "BHS^1") in _codes(batch), "the first batch never closes"
    assert ("100", "PID^1") in _codes(batch), "segments of no message"
    assert ("100", "BTS^1^1") in _codes(batch) and ("100", "FTS^1^1") in _codes(batch)


@pytest.mark.parametrize("sep", ["\r", "\n", "\r\n"])
def test_segments_may_end_in_cr_lf_or_crlf(sep: str) -> None:
    raw = sep.join(["FHS|^~\\&|EHR|GENHOSP|||||||F1", "BHS|^~\\&|EHR|GENHOSP|||||||B1"]) + sep
    raw += _msg("M1", sep) + _msg("M2", sep) + f"BTS|2{sep}FTS|1{sep}"
    batch = read_batch(raw.encode())
    assert batch.problems == ()
    assert [m.decode() for m in batch.messages] == [_msg("M1", sep), _msg("M2", sep)]
    assert batch.header is not None and batch.header.control_id == "F1"


@pytest.mark.parametrize(
    ("raw", "messages"),
    [
        ("BHS|^~\\&\r" + _msg("M1") + "BTS|1\r", [1]),  # a lone batch, no file
        ("FHS|^~\\&\r" + _msg("M1") + _msg("M2") + "FTS|1\r", [2]),  # a file without BHS
        ("FHS|^~\\&\rBHS|^~\\&\rBTS|0\rFTS|1\r", [0]),  # an empty batch (periodic submission)
        ("FHS|^~\\&\rFTS|0\r", []),  # an empty file
        ("BHS|^~\\&\r" + _msg("M1") + "BTS\r", [1]),  # BTS-1 is optional
        ("BHS|^~\\&\r" + _msg("M1") + "BTS|1\rBHS|^~\\&\r" + _msg("M2") + "BTS|1\r", [1, 1]),
    ],
)
def test_well_formed_envelopes(raw: str, messages: list[int]) -> None:
    batch = read_batch(raw.encode())
    assert batch.problems == ()
    assert [len(b.messages) for b in batch.batches] == messages


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        ("BHS|^~\\&\r" + _msg("M1"), ("100", "BHS^1")),
        ("FHS|^~\\&\rBHS|^~\\&\r" + _msg("M1") + "BTS|1\r", ("100", "FHS^1")),
        ("BHS|^~\\&\r" + _msg("M1") + "BTS|2\r", ("100", "BTS^1^1")),
        ("BHS|^~\\&\r" + _msg("M1") + "BTS|one\r", ("102", "BTS^1^1")),
        ("FHS|^~\\&\rBHS|^~\\&\r" + _msg("M1") + "BTS|1\rFTS|2\r", ("100", "FTS^1^1")),
        ("BHS|^~\\&\r" + _msg("M1") + "BTS|1\rFTS|1\r", ("100", "FTS^1")),
        ("FHS|^~\\&\rFTS|0\rPID|1\r", ("100", "PID^1")),
        ("BHS|^~\\&\r" + _msg("M1") + "BTS|1\r" + _msg("M2"), ("100", "MSH^2")),
        ("BHS|^~\\&\rPID|1\r" + _msg("M1") + "BTS|1\r", ("100", "PID^1")),
        ("BHS|^^~&\r" + _msg("M1") + "BTS|1\r", ("102", "BHS^1^2")),
    ],
    ids=[
        "bhs-without-bts",
        "fhs-without-fts",
        "bts-count",
        "bts-not-a-count",
        "fts-count",
        "fts-without-fhs",
        "after-the-end",
        "msh-after-bts",
        "segment-before-msh",
        "bad-encoding-characters",
    ],
)
def test_malformed_envelopes_name_what_is_wrong_and_where(raw: str, problem: tuple[str, str]) -> None:
    batch = read_batch(raw.encode())
    assert problem in _codes(batch), batch.problems
    assert all(p.text.startswith("batch envelope: ") for p in batch.problems)


def test_a_header_in_other_delimiters_is_echoed_in_the_standard_ones() -> None:
    batch = read_batch(b"BHS#@~\\$#APP@1.2.3@ISO#FAC^1#######B-9\r" + _msg("M1").encode() + b"BTS#1\r")
    assert batch.problems == ()
    (only,) = batch.batches
    assert only.header is not None
    assert (only.header.sending_application, only.header.sending_facility) == ("APP^1.2.3^ISO", "FAC\\S\\1")
    assert only.header.control_id == "B-9"


def test_the_response_batch_references_the_request_and_counts_its_acks() -> None:
    request = read_batch(
        (
            "FHS|^~\\&|EHR|GENHOSP|||||||F-1\rBHS|^~\\&|EHR|GENHOSP|||||||B-1\r"
            + _msg("M1")
            + _msg("M2")
            + "BTS|2\rBHS|^~\\&|EHR|GENHOSP|||||||B-2\r"
            + _msg("M3")
            + "BTS|1\rFTS|2\r"
        ).encode()
    )
    answer = batch_ack(
        request,
        [[_ack("M1"), _ack("M2")], [_ack("M3")]],
        sending_application="RXHUB",
        sending_facility="PHARMACY",
        control_id="2612011015000001",
        now=NOW,
    )
    lines = answer.decode().split("\r")
    assert lines[0] == "FHS|^~\\&|RXHUB|PHARMACY|EHR|GENHOSP|20261201101500+0000||||F2612011015000001|F-1"
    assert lines[1] == "BHS|^~\\&|RXHUB|PHARMACY|EHR|GENHOSP|20261201101500+0000||||B26120110150000011|B-1"
    assert [line for line in lines if line[:3] in ("BTS", "FTS")] == ["BTS|2", "BTS|1", "FTS|2"]
    assert _ack("M1") + _ack("M2") in answer, "each ACK as it was built"
    parsed = hl7.parse_file(answer.decode())  # a third-party reading of the structure
    assert [len(b) for b in parsed] == [2, 1]
    assert [str(b.header[12]) for b in parsed] == ["B-1", "B-2"]
    assert str(parsed.header[12]) == "F-1" and str(parsed.trailer[1]) == "2"


def test_a_refused_envelope_says_why_and_a_lone_refusal_gets_a_batch_of_its_own() -> None:
    request = read_batch(b"BHS|^~\\&|EHR|GENHOSP|||||||B-1\rZZZ|1\r")
    assert request.problems and request.batches[0].messages == ()
    answer = (
        batch_ack(
            request, [[], [_ack("")]], sending_application="RXHUB", sending_facility="PHARMACY", control_id="1", now=NOW
        )
        .decode()
        .split("\r")
    )
    bhs = [line.split("|") for line in answer if line.startswith("BHS")]
    assert bhs[0][9].startswith("refused: batch envelope: ZZZ before the first MSH") and bhs[0][11] == "B-1"
    assert len(bhs[1]) == 11, "the extra batch references nothing"
    assert [line for line in answer if line.startswith("BTS")] == ["BTS|0", "BTS|1"]
