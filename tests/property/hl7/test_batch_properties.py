"""HL7 batch envelope properties: never crashes, messages come back as sent, the answer mirrors the request."""

from __future__ import annotations

import hl7
from hypothesis import given
from hypothesis import strategies as st

from adapters.hl7.batch import read_batch
from adapters.hl7.batch_acks import batch_ack
from hub.errors import Problem

ids = st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-", min_size=1, max_size=20)
separators = st.sampled_from(["\r", "\n", "\r\n"])
#: a message: its control id and some body segments (never an envelope or MSH segment id)
bodies = st.lists(
    st.sampled_from(["PID|1||MRN1", "ORC|NW|P1", "RXE||X^Y^NDC|1", "ZXT|a^b~c", "NTE|1||BTS|2"]), max_size=4
)
messages = st.tuples(ids, bodies)
batches = st.lists(st.tuples(ids, st.lists(messages, max_size=4)), min_size=1, max_size=3)
Parts = list[tuple[str, list[tuple[str, list[str]]]]]


def _message(control_id: str, body: list[str], sep: str) -> str:
    return sep.join([f"MSH|^~\\&|EHR|GENHOSP|||20261201||RDE^O11|{control_id}|P|2.5.1", *body]) + sep


def _file(file_id: str, parts: Parts, sep: str) -> str:
    out = [f"FHS|^~\\&|EHR|GENHOSP|||||||{file_id}{sep}"]
    for batch_id, content in parts:
        out.append(f"BHS|^~\\&|EHR|GENHOSP|||||||{batch_id}{sep}")
        out.extend(_message(c, body, sep) for c, body in content)
        out.append(f"BTS|{len(content)}{sep}")
    out.append(f"FTS|{len(parts)}{sep}")
    return "".join(out)


@given(st.sampled_from([b"FHS|", b"BHS|", b"\xef\xbb\xbfBHS|^~\\&\r"]), st.binary(max_size=400))
def test_any_bytes_after_an_envelope_header_give_a_reading_never_an_exception(head: bytes, tail: bytes) -> None:
    raw = head + tail
    batch = read_batch(raw)
    assert all(isinstance(p, Problem) and p.code in ("100", "102") for p in batch.problems)
    assert all(m in raw for m in batch.messages), "a message is always bytes the sender sent"


@given(ids, batches, separators)
def test_a_well_formed_file_gives_back_every_message_as_sent(file_id: str, parts: Parts, sep: str) -> None:
    batch = read_batch(_file(file_id, parts, sep).encode())
    assert batch.problems == ()
    assert batch.header is not None and batch.header.control_id == file_id
    assert [b.header.control_id for b in batch.batches if b.header] == [batch_id for batch_id, _ in parts]
    assert [m.decode() for m in batch.messages] == [
        _message(c, body, sep) for _, content in parts for c, body in content
    ]


@given(ids, batches)
def test_the_answer_mirrors_the_request_as_a_third_party_parser_reads_it(file_id: str, parts: Parts) -> None:
    request = read_batch(_file(file_id, parts, "\r").encode())
    acks = [
        [f"MSH|^~\\&|RXHUB|PHARMACY|||20261201||ACK|{c}-A|P|2.5.1\rMSA|AA|{c}\r".encode() for c, _ in content]
        for _, content in parts
    ]
    answer = hl7.parse_file(
        batch_ack(request, acks, sending_application="RXHUB", sending_facility="PHARMACY", control_id="1").decode()
    )
    assert str(answer.header[12]) == file_id and str(answer.trailer[1]) == str(len(parts))
    assert [str(b.header[12]) for b in answer] == [batch_id for batch_id, _ in parts]
    assert [len(b) for b in answer] == [len(content) for _, content in parts]
    assert [str(b.trailer[1]) for b in answer] == [str(len(content)) for _, content in parts]
