"""Socket to subscriber: HL7 orders over a real MLLP connection become events on rxhub.events."""

from __future__ import annotations

import re
import socket
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from hub.config import Settings
from hub.entrypoints.inprocess import running_hub
from hub.entrypoints.mllp_client import MllpClient
from hub.messaging.topology import Topology
from hub.persistence.tables import inbound_messages
from tests.support.corpus import CORPUS
from tests.support.events import EventSubscriber
from tests.support.waiting import eventually

SAMPLES = Path(__file__).resolve().parents[2] / "samples" / "hl7"

#: corpus file -> (MSA-1, number of prescription.received events, ERR/0357 code expected in the ACK)
CORPUS_EXPECTATIONS: dict[str, tuple[str, int, str | None]] = {
    # v2.1 is older than the hub supports: AR 203
    "bcgov_pharmanet_odd_v21_zpn_tpi_msh2_missing_escape_char.hl7": ("AR", 0, "203"),
    "bcgov_pharmanet_odd_v21_zpn_trx_x0_double_cr.hl7": ("AR", 0, "203"),
    "fhirconverter_orm_o01_rxo_ampicillin_bom.hl7": ("AA", 1, None),
    # IV admixture (RXC) / infusion rate (RXE-23): refused with AE 200 until the hub can carry components and
    # rates (issue 26); they were AA and stored as "3 BG" of the bag's code, components and rate gone
    "fhirconverter_rde_o11_nicardipine_iv_rxo_rxe_rxr_rxc_prt.hl7": ("AE", 0, "200"),
    "fhirconverter_rde_o11_two_orders.hl7": ("AE", 0, "200"),
    # dispenses are not orders: AR 200 (the order port does not take RDS)
    "fhirconverter_rds_o13_doxycycline_dispense.hl7": ("AR", 0, "200"),
    "fhirconverter_rds_o13_two_dispenses.hl7": ("AR", 0, "200"),
    # fragments from the spec: MSH-2 is not a usable encoding-characters field
    "hl7spec_v23_odd_fragment_rxo_email_only_freetext.hl7": ("AE", 0, "102"),
    "hl7spec_v23_odd_fragment_rxo_partially_coded.hl7": ("AE", 0, "102"),
    "lfh_odd_omp_o09_msh2_double_backslash.hl7": ("AE", 0, "102"),
    # ORC-1 "OP" is not a new-order or cancel control: AE 103 at ORC-1 of each group
    "lfh_odd_omp_o09_mixed_cr_lf_separators.hl7": ("AE", 0, "103"),
    "lfh_omp_o09_v251_two_orders_obx.hl7": ("AE", 0, "103"),
    "lfh_omp_o09_v26_dexamethasone_rxo_rxr.hl7": ("AE", 0, "103"),
    # a radiology order (OBR, no RXO/RXE) is not a pharmacy order: AR 200 (issue 26; was AE 103 for ORC-1 SN)
    "lfh_orm_o01_v23.hl7": ("AR", 0, "200"),
    "lfh_rde_o11_v26_testosterone_orc_rxo_rxe.hl7": ("AA", 1, None),
    # MSH-11 is empty and required: AE 101 unless RXHUB_HL7_DEFAULT_PROCESSING_ID is set (tested below)
    "nhs_cerner_rde_o01_v23_cancel_diltiazem_zsegs_nulls.hl7": ("AE", 0, "101"),
}


def test_every_corpus_file_has_an_expectation() -> None:
    assert sorted(p.name for p in (CORPUS / "hl7v2").glob("*.hl7")) == sorted(CORPUS_EXPECTATIONS)


def _msa(ack: bytes) -> list[str]:
    seg = next(s for s in ack.split(b"\r") if s.startswith(b"MSA"))
    return seg.decode().split("|")


def _msh10(message: bytes) -> str:
    text = message.lstrip(b"\xef\xbb\xbf").replace(b"\n", b"\r").decode("utf-8", "replace")
    fields = text.split("\r")[0].split("|")
    return fields[9] if len(fields) > 9 else ""  # fragments without MSH-10 are answered with an empty MSA-2


@pytest.fixture
def subscriber(settings: Settings):  # type: ignore[no-untyped-def]
    sub = EventSubscriber(settings.amqp_url.get_secret_value(), Topology(settings.broker_prefix).events_exchange)
    yield sub
    sub.close()


@pytest.mark.parametrize("name", sorted(CORPUS_EXPECTATIONS))
def test_every_corpus_order_gets_the_ack_it_deserves_and_one_event_per_order(
    name: str, settings: Settings, subscriber: EventSubscriber
) -> None:
    """Each file on its own hub: corpus files reuse control ids and placer numbers across samples."""
    code, events, err = CORPUS_EXPECTATIONS[name]
    raw = (CORPUS / "hl7v2" / name).read_bytes()
    with running_hub(settings, steps=["intake"]) as hub, MllpClient("127.0.0.1", hub.mllp_port) as client:
        ack = client.send(raw)
        subscriber.collect(lambda ev: len(ev) >= events, timeout_s=10)
        subscriber.drain(quiet_s=0.5 if events == 0 else 1.0)
    msa = _msa(ack)
    assert msa[1] == code, f"{name}: {ack!r}"
    assert msa[2] == _msh10(raw), f"{name}: MSA-2 must echo MSH-10"
    if err:
        err_segments = [seg for seg in ack.split(b"\r") if seg.startswith(b"ERR")]
        assert any(re.search(rf"(?<![0-9]){err}(?![0-9])".encode(), seg) for seg in err_segments), f"{name}: {ack!r}"
    received = subscriber.of_type("prescription.received")
    assert len(received) == events
    assert len({e["id"] for e in received}) == events
    assert all(e["specversion"] == "1.0" and e["correlationid"] for e in received)


def test_cerner_feed_without_msh11_is_accepted_when_a_default_is_configured(amqp_url: str, sqlite_url: str) -> None:
    from tests.conftest import make_settings

    settings = make_settings(amqp_url, sqlite_url, hl7_default_processing_id="P")
    raw = (CORPUS / "hl7v2" / "nhs_cerner_rde_o01_v23_cancel_diltiazem_zsegs_nulls.hl7").read_bytes()
    with running_hub(settings, steps=["intake"]) as hub, MllpClient("127.0.0.1", hub.mllp_port) as client:
        ack = client.send(raw)
    # read past MSH-11 (no AR 202); the sample cancels an order this sender never sent: AE 204, unknown order
    assert _msa(ack)[1] == "AE" and _msa(ack)[2] == "Q105132700T129367833"
    assert b"|204^" in ack and b"|202^" not in ack


def _answered(engine: Engine, control_id: str) -> bytes | None:
    """The answer stored with the HL7 message of this control id (written beside the ACK, not before it)."""
    c = inbound_messages.c
    with engine.connect() as conn:
        return conn.execute(select(c.answer).where(c.door == "hl7", c.control_id == control_id)).scalar()


def test_control_id_reused_for_other_content_is_refused_with_205(settings: Settings) -> None:
    a = (SAMPLES / "01_rde_o11_retail_amoxicillin.hl7").read_bytes()
    b = (SAMPLES / "02_rde_o11_inpatient_lisinopril.hl7").read_bytes().replace(b"RXH-DEMO-0002", b"RXH-DEMO-0001")
    with running_hub(settings, steps=["intake"]) as hub, MllpClient("127.0.0.1", hub.mllp_port) as client:
        first = client.send(a)
        eventually(lambda: _answered(hub.engine, "RXH-DEMO-0001"), "the first message's dedupe record")
        second = client.send(b)
    assert _msa(first)[1] == "AA"
    assert _msa(second)[1] == "AR" and b"|205^" in second


def test_a_resent_duplicate_is_acked_again_and_not_republished(settings: Settings, subscriber: EventSubscriber) -> None:
    raw = (SAMPLES / "04_orm_o01_v23_two_orders.hl7").read_bytes()
    with running_hub(settings, steps=["intake"]) as hub, MllpClient("127.0.0.1", hub.mllp_port) as client:
        first = client.send(raw)
        second = client.send(raw)
        subscriber.collect(lambda ev: len(ev) >= 2)
        subscriber.drain(quiet_s=1.5)
    assert _msa(first)[1] == _msa(second)[1] == "AA"
    assert len(subscriber.of_type("prescription.received")) == 2, "two ORDER groups, published once"


def test_content_error_gets_ae_with_err_location_and_does_not_block_the_next(
    settings: Settings, subscriber: EventSubscriber
) -> None:
    good = (SAMPLES / "01_rde_o11_retail_amoxicillin.hl7").read_bytes()
    lines = good.split(b"\r")
    bad = b"\r".join(
        line.replace(b"00093005801^Amoxicillin 500 MG Oral Capsule^NDC", b"")
        if line.startswith(b"RXE")
        else line.replace(b"RXH-DEMO-0001", b"RXH-BAD-1")
        for line in lines
    )
    with running_hub(settings, steps=["intake"]) as hub, MllpClient("127.0.0.1", hub.mllp_port) as client:
        ack_bad = client.send(bad)
        ack_good = client.send(good)
        subscriber.collect(lambda ev: len(ev) >= 1)
        subscriber.drain(quiet_s=1.0)
    assert _msa(ack_bad)[1] == "AE" and _msa(ack_bad)[2] == "RXH-BAD-1"
    assert b"RXE^1^2" in ack_bad and b"101^" in ack_bad
    assert _msa(ack_good)[1] == "AA"
    assert len(subscriber.of_type("prescription.received")) == 1


def test_framing_junk_split_frames_and_several_frames_in_one_write(settings: Settings) -> None:
    a = (SAMPLES / "01_rde_o11_retail_amoxicillin.hl7").read_bytes()
    b = (SAMPLES / "02_rde_o11_inpatient_lisinopril.hl7").read_bytes()
    with running_hub(settings, steps=["intake"]) as hub:
        sock = socket.create_connection(("127.0.0.1", hub.mllp_port), timeout=20)
        stream = b"garbage before\x0b" + a + b"\x1c\r\x0b" + b + b"\x1c\r"
        for i in range(0, len(stream), 7):  # split over many writes
            sock.sendall(stream[i : i + 7])
        client = MllpClient.__new__(MllpClient)
        client.sock, client._buf = sock, b""
        acks = [client.read_frame(), client.read_frame()]
        sock.close()
    assert [_msa(x)[2] for x in acks] == ["RXH-DEMO-0001", "RXH-DEMO-0002"]


def test_oversize_frame_gets_ar_and_the_connection_still_serves(amqp_url: str, sqlite_url: str) -> None:
    from tests.conftest import make_settings

    settings = make_settings(amqp_url, sqlite_url, mllp_max_frame_bytes=2048)
    good = (SAMPLES / "01_rde_o11_retail_amoxicillin.hl7").read_bytes()
    with running_hub(settings, steps=["intake"]) as hub, MllpClient("127.0.0.1", hub.mllp_port) as client:
        ack_big = client.send(good + b"NTE|1||" + b"x" * 5000 + b"\r")
        ack_good = client.send(good)
    assert _msa(ack_big)[1] == "AR"
    assert _msa(ack_good)[1] == "AA"


def test_connection_dropped_mid_frame_does_not_disturb_the_listener(settings: Settings) -> None:
    good = (SAMPLES / "01_rde_o11_retail_amoxicillin.hl7").read_bytes()
    with running_hub(settings, steps=["intake"]) as hub:
        sock = socket.create_connection(("127.0.0.1", hub.mllp_port), timeout=10)
        sock.sendall(b"\x0b" + good[:40])
        sock.close()
        with MllpClient("127.0.0.1", hub.mllp_port) as client:
            assert _msa(client.send(good))[1] == "AA"


def test_broker_unreachable_yields_no_aa(settings: Settings) -> None:
    """With the publisher's broker gone the sender gets AR (207) and resends later; never AA."""
    good = (SAMPLES / "01_rde_o11_retail_amoxicillin.hl7").read_bytes()
    with running_hub(settings, steps=["intake"]) as hub, MllpClient("127.0.0.1", hub.mllp_port) as client:
        import asyncio

        publisher = hub.doors.publisher
        assert publisher is not None
        asyncio.run_coroutine_threadsafe(publisher.close(), hub.loop).result(10)
        ack = client.send(good)
    assert _msa(ack)[1] == "AR"
    assert b"207^" in ack


def test_reused_control_id_racing_its_record_is_never_merged_with_the_first(settings: Settings) -> None:
    """Back to back, before the first record exists: the second message is a new order, never lost."""
    a = (SAMPLES / "01_rde_o11_retail_amoxicillin.hl7").read_bytes()
    b = (SAMPLES / "02_rde_o11_inpatient_lisinopril.hl7").read_bytes().replace(b"RXH-DEMO-0002", b"RXH-DEMO-0001")
    sub = EventSubscriber(
        settings.amqp_url.get_secret_value(), Topology(settings.broker_prefix).events_exchange, "prescription.received"
    )
    try:
        with running_hub(settings, steps=["intake"]) as hub, MllpClient("127.0.0.1", hub.mllp_port) as client:
            answers = [_msa(client.send(a))[1], _msa(client.send(b))[1]]
            sub.collect(lambda ev: len(ev) >= answers.count("AA"), timeout_s=15)
            sub.drain(quiet_s=1.0)
    finally:
        sub.close()
    assert answers[0] == "AA" and answers[1] in ("AA", "AR")
    assert len(sub.events) == answers.count("AA"), "every AA'd order recorded, none merged or doubled"
