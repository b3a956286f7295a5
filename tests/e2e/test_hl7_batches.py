"""HL7 batches (FHS/BHS ... BTS/FTS) over a real MLLP listener, on SQLite and PostgreSQL (issue 26, part 4).

Before, a batch got one AE quoting its first message's control id and none of its orders was taken.  Now
each message inside is taken or refused as if it had come alone, and the answer is a response batch: BHS-12
names the batch answered, one ACK per message, BTS-1 their count.  The orders are synthetic (written for
these tests); the public batch samples (tests/corpus/SOURCES.md) carry ADT, which the hub refuses.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import hl7.client
import pytest
from sqlalchemy import func, select

from hub.config import Settings
from hub.entrypoints.cli import _send as _send_files
from hub.entrypoints.inprocess import RunningHub, running_hub
from hub.entrypoints.mllp_client import MllpClient
from hub.errors import BrokerUnavailable
from hub.messaging.envelope import Envelope
from hub.messaging.topology import Topology
from hub.persistence.database import read_connection
from hub.persistence.tables import inbound_messages, prescriptions
from hub.service.ports import CommandSink
from tests.conftest import make_settings
from tests.support.events import EventSubscriber
from tests.support.waiting import eventually

AMOXICILLIN = "00093005801^Amoxicillin 500 MG Oral Capsule^NDC"
CORPUS = Path(__file__).resolve().parents[1] / "corpus" / "hl7v2"


def _rde(control_id: str, placer: str, *, drug: str = AMOXICILLIN, control: str = "NW") -> list[str]:
    return [
        f"MSH|^~\\&|EHR|GENHOSP|RXHUB|PHARMACY|20261201101500||RDE^O11^RDE_O11|{control_id}|P|2.5.1",
        "PID|1||MRN10001^^^GENHOSP^MR||Synthetic^Alice^Q||19800101|F",
        "PV1|1|O",
        f"ORC|{control}|{placer}^EHR|||||||20261201101500|||1234567893^Prescriber^Paula^^^^^^NPI^^^^NPI",
        "TQ1|1||BID",
        f"RXE||{drug}|1||CAP||^Take 1 capsule by mouth twice daily|||20|CAP|0||||||||||||||||||||20261120",
        "RXR|PO",
    ]


def _adt(control_id: str) -> list[str]:
    return [
        f"MSH|^~\\&|EHR|GENHOSP|RXHUB|PHARMACY|20261201101500||ADT^A04^ADT_A01|{control_id}|P|2.5.1",
        "EVN|A04|20261201101500",
        "PID|1||MRN10001^^^GENHOSP^MR||Synthetic^Alice^Q||19800101|F",
    ]


def _batch(
    *messages: list[str], file: bool = True, count: int | None = None, trailer: bool = True, sep: str = "\r"
) -> bytes:
    lines = ["FHS|^~\\&|EHR|GENHOSP|RXHUB|PHARMACY|20261201101500||||FILE-7"] if file else []
    lines.append("BHS|^~\\&|EHR|GENHOSP|RXHUB|PHARMACY|20261201101500||||BATCH-7")
    for message in messages:
        lines.extend(message)
    if trailer:
        lines.append(f"BTS|{len(messages) if count is None else count}")
    if file:
        lines.append("FTS|1")
    return (sep.join(lines) + sep).encode()


@dataclass
class BatchAnswer:
    """A response batch read back: its envelope segments' fields and each ACK's MSA and ERR lines."""

    envelope: dict[str, list[str]]
    acks: list[list[str]]
    raw: bytes

    @property
    def codes(self) -> list[str]:
        return [ack[0].split("|")[1] for ack in self.acks]

    @property
    def control_ids(self) -> list[str]:
        return [ack[0].split("|")[2] for ack in self.acks]

    def inner(self) -> list[bytes]:
        """Each ACK's bytes, MSH to the next MSH or BTS."""
        text = self.raw.split(b"\r")
        out: list[list[bytes]] = []
        for line in text:
            if line.startswith(b"MSH"):
                out.append([line])
            elif out and not line.startswith((b"BTS", b"FTS", b"BHS")) and line:
                out[-1].append(line)
        return [b"\r".join(lines) for lines in out]


def _read(answer: bytes) -> BatchAnswer:
    envelope: dict[str, list[str]] = {}
    acks: list[list[str]] = []
    for line in answer.decode().split("\r"):
        seg = line[:3]
        if seg in ("FHS", "BHS", "BTS", "FTS"):
            envelope[seg] = line.split("|")
        elif seg == "MSA":
            acks.append([line])
        elif seg == "ERR":
            acks[-1].append(line)
    return BatchAnswer(envelope, acks, answer)


@pytest.fixture
def hub(amqp_url: str, database_url: str) -> Iterator[RunningHub]:
    settings = make_settings(amqp_url, database_url)
    with running_hub(settings, steps=["intake"]) as running:
        yield running


@pytest.fixture
def subscriber(hub: RunningHub) -> Iterator[EventSubscriber]:
    settings: Settings = hub.settings
    sub = EventSubscriber(
        settings.amqp_url.get_secret_value(), Topology(settings.broker_prefix).events_exchange, "prescription.received"
    )
    yield sub
    sub.close()


def _send(hub: RunningHub, raw: bytes) -> BatchAnswer:
    with MllpClient("127.0.0.1", hub.mllp_port) as client:
        return _read(client.send(raw))


def _orders(hub: RunningHub, *placers: str) -> int:
    with read_connection(hub.engine) as conn:
        return int(
            conn.execute(
                select(func.count()).select_from(prescriptions).where(prescriptions.c.placer_order_number.in_(placers))
            ).scalar_one()
        )


def test_a_batch_of_three_orders_gets_a_batch_ack_with_three_aa_and_three_prescriptions(
    hub: RunningHub, subscriber: EventSubscriber
) -> None:
    raw = _batch(_rde("B3-1", "PB3-1"), _rde("B3-2", "PB3-2"), _rde("B3-3", "PB3-3"))
    # python-hl7's client, a third-party sender: one frame out, the response batch back in one frame
    client = hl7.client.MLLPClient("127.0.0.1", hub.mllp_port)
    try:
        answer = _read(client.send_message(raw).strip(b"\x0b\x1c\r") + b"\r")
    finally:
        client.close()
    assert answer.codes == ["AA", "AA", "AA"] and answer.control_ids == ["B3-1", "B3-2", "B3-3"], answer.raw
    fhs, bhs = answer.envelope["FHS"], answer.envelope["BHS"]
    assert (fhs[2], fhs[3], fhs[4], fhs[5], fhs[11]) == ("RXHUB", "PHARMACY", "EHR", "GENHOSP", "FILE-7")
    assert (bhs[4], bhs[5], bhs[11]) == ("EHR", "GENHOSP", "BATCH-7"), "BHS-12 names the batch answered"
    assert bhs[10] and bhs[10] != "BATCH-7", "BHS-11 is the answer's own control id"
    assert answer.envelope["BTS"] == ["BTS", "3"] and answer.envelope["FTS"] == ["FTS", "1"]
    eventually(lambda: _orders(hub, "PB3-1", "PB3-2", "PB3-3") == 3, "three prescriptions")
    subscriber.collect(lambda ev: len(ev) >= 3)
    subscriber.drain(quiet_s=1.0)
    assert len(subscriber.events) == 3


def test_one_bad_message_is_refused_and_the_others_are_kept(hub: RunningHub, subscriber: EventSubscriber) -> None:
    raw = _batch(_rde("BB-1", "PBB-1"), _rde("BB-2", "PBB-2", drug=""), _adt("BB-3"), _rde("BB-4", "PBB-4"), file=False)
    answer = _send(hub, raw)
    assert answer.codes == ["AA", "AE", "AR", "AA"], answer.raw
    assert answer.control_ids == ["BB-1", "BB-2", "BB-3", "BB-4"]
    assert any("RXE^1^2" in err and "101^" in err for err in answer.acks[1][1:]), answer.acks[1]
    assert any("200^" in err for err in answer.acks[2][1:]), answer.acks[2]
    assert "FHS" not in answer.envelope and "FTS" not in answer.envelope, "a lone batch is answered by a batch"
    assert answer.envelope["BHS"][11] == "BATCH-7" and answer.envelope["BTS"] == ["BTS", "4"]
    eventually(lambda: _orders(hub, "PBB-1", "PBB-4") == 2, "the two good orders")
    subscriber.collect(lambda ev: len(ev) >= 2)
    subscriber.drain(quiet_s=1.0)
    assert len(subscriber.events) == 2 and _orders(hub, "PBB-2") == 0


def test_a_resent_batch_gets_the_same_acks_and_doubles_nothing(hub: RunningHub, subscriber: EventSubscriber) -> None:
    raw = _batch(_rde("BR-1", "PBR-1"), _rde("BR-2", "PBR-2", drug=""), _rde("BR-3", "PBR-3"))
    first = _send(hub, raw)
    # the dedupe record of each taken message is written beside its ACK: wait for both before resending
    eventually(lambda: _journal(hub, "BR-1", "BR-3") == 2, "two dedupe records")
    again = _send(hub, raw)
    assert first.codes == again.codes == ["AA", "AE", "AA"]
    taken = [first.inner()[0], first.inner()[2]]
    assert [again.inner()[0], again.inner()[2]] == taken, "a resend is answered with the ACKs first given"
    assert again.envelope["BHS"][11] == "BATCH-7"
    eventually(lambda: _orders(hub, "PBR-1", "PBR-3") == 2, "two prescriptions")
    subscriber.collect(lambda ev: len(ev) >= 2)
    subscriber.drain(quiet_s=1.5)
    assert len(subscriber.events) == 2 and _orders(hub, "PBR-1", "PBR-2", "PBR-3") == 2


def _journal(hub: RunningHub, *control_ids: str) -> int:
    with read_connection(hub.engine) as conn:
        return int(
            conn.execute(
                select(func.count()).select_from(inbound_messages).where(inbound_messages.c.control_id.in_(control_ids))
            ).scalar_one()
        )


def test_a_batch_with_lf_line_ends_and_a_cancel_of_an_order_earlier_in_it(
    hub: RunningHub, subscriber: EventSubscriber
) -> None:
    raw = _batch(_rde("BL-1", "PBL-1"), _rde("BL-2", "PBL-2"), _rde("BL-3", "PBL-1", control="CA"), sep="\n")
    answer = _send(hub, raw)
    assert answer.codes == ["AA", "AA", "AA"], answer.raw
    eventually(lambda: _orders(hub, "PBL-1", "PBL-2") == 2, "two prescriptions")


@pytest.mark.parametrize(
    ("raw", "where"),
    [
        (_batch(_rde("BM-1", "PBM-1"), _rde("BM-2", "PBM-2"), trailer=False, file=False), "BHS^1"),
        (_batch(_rde("BM-1", "PBM-1"), _rde("BM-2", "PBM-2"), count=3), "BTS^1^1"),
    ],
    ids=["missing-bts", "count-mismatch"],
)
def test_a_malformed_envelope_refuses_every_message_and_takes_none(
    hub: RunningHub, subscriber: EventSubscriber, raw: bytes, where: str
) -> None:
    answer = _send(hub, raw)
    assert answer.codes == ["AE", "AE"] and answer.control_ids == ["BM-1", "BM-2"], answer.raw
    assert all(any(f"|{where}|100^" in err for err in ack[1:]) for ack in answer.acks), answer.acks
    assert answer.envelope["BHS"][9].startswith("refused: batch envelope")
    subscriber.drain(quiet_s=1.5)
    assert subscriber.events == [] and _orders(hub, "PBM-1", "PBM-2") == 0
    # fixed and resent whole, the same messages are taken
    fixed = _send(hub, _batch(_rde("BM-1", "PBM-1"), _rde("BM-2", "PBM-2")))
    assert fixed.codes == ["AA", "AA"]
    eventually(lambda: _orders(hub, "PBM-1", "PBM-2") == 2, "the fixed batch's prescriptions")


def test_the_public_batch_samples_are_answered_message_by_message(hub: RunningHub) -> None:
    """python-hl7's VINAH files (tests/corpus/SOURCES.md): ADT is no order, so each message is refused (CR 200,
    enhanced mode) though its MSH-15 says NE: a response batch that left it out would call it accepted."""
    one = _send(hub, (CORPUS / "pythonhl7_vinah_adt_a04_file_fhs_bhs_one_message.hl7").read_bytes())
    assert one.codes == ["CR"] and one.control_ids == ["12334456778890"], one.raw
    assert any("200^" in err for err in one.acks[0][1:])
    assert one.envelope["BHS"][11] == "abchs20070101123401-1" and one.envelope["FTS"] == ["FTS", "1"]
    two = _send(hub, (CORPUS / "pythonhl7_vinah_adt_a04_file_two_batches.hl7").read_bytes())
    assert two.codes == ["CR", "CR", "CR"] and two.envelope["FTS"] == ["FTS", "2"], two.raw
    odd = _send(hub, (CORPUS / "pythonhl7_odd_vinah_adt_a04_file_bhs_inside_message.hl7").read_bytes())
    assert odd.codes == ["CE"] and odd.envelope["BHS"][9].startswith("refused: "), odd.raw


class BrokerFailsOnce:
    """The door's real publisher, except that its n-th publish fails as if the broker were gone."""

    def __init__(self, real: CommandSink, fail_at: int) -> None:
        self.real, self.fail_at, self.calls = real, fail_at, 0

    async def publish_commands(self, envelopes: list[Envelope]) -> None:
        self.calls += 1
        if self.calls == self.fail_at:
            raise BrokerUnavailable("injected: the broker went away for one publish")
        await self.real.publish_commands(envelopes)


def test_a_broker_failure_halfway_costs_only_the_message_it_hit(hub: RunningHub) -> None:
    handler = hub.doors.hl7_handler
    assert handler is not None
    pipeline = handler._pipeline
    pipeline._sink = BrokerFailsOnce(pipeline._sink, fail_at=2)  # fault injection into the running door
    raw = _batch(_rde("BF-1", "PBF-1"), _rde("BF-2", "PBF-2"), _rde("BF-3", "PBF-3"))
    first = _send(hub, raw)
    assert first.codes == ["AA", "AR", "AA"], first.raw
    assert any("207^" in err for err in first.acks[1][1:])
    eventually(
        lambda: _orders(hub, "PBF-1", "PBF-3") == 2 and _journal(hub, "BF-1", "BF-3") == 2,
        "the two confirmed orders and their dedupe records",
    )
    assert _orders(hub, "PBF-2") == 0
    again = _send(hub, raw)  # the sender resends the batch: only the refused message is new
    assert again.codes == ["AA", "AA", "AA"]
    assert [again.inner()[0], again.inner()[2]] == [first.inner()[0], first.inner()[2]]
    eventually(lambda: _orders(hub, "PBF-1", "PBF-2", "PBF-3") == 3, "three prescriptions")


def test_rxhub_send_sends_a_batch_file_whole_and_fails_on_any_refusal(
    hub: RunningHub, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good, bad = tmp_path / "good.hl7", tmp_path / "bad.hl7"
    good.write_bytes(_batch(_rde("BS-1", "PBS-1"), _rde("BS-2", "PBS-2"), sep="\n"))
    bad.write_bytes(_batch(_rde("BS-3", "PBS-3"), _rde("BS-4", "PBS-4", drug="")))
    assert _cli_send(hub, good) == 0
    assert capsys.readouterr().out.count("MSA|AA|BS-") == 2
    assert _cli_send(hub, bad) == 1, "one AE in the response batch fails the send"
    eventually(lambda: _orders(hub, "PBS-1", "PBS-2", "PBS-3") == 3, "the three good orders")


def _cli_send(hub: RunningHub, path: Path) -> int:
    return _send_files(argparse.Namespace(files=[path], host="127.0.0.1", port=hub.mllp_port), hub.settings)
