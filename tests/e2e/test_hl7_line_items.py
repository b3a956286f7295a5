"""Every line item kept, and nothing promised that will not be kept (issue 26, HL7 parts 1-3).

Over a real MLLP listener, on SQLite and PostgreSQL, with the intake worker running: a JAHIS prescription of
three items under one ORC-2 (a real SS-MIX2 sample, tests/data/hl7) is three prescriptions, answered AA; its
resend changes nothing and no item is refused as a duplicate order; a cancel of two of the items cancels those
two.  A JAHIS injection (IV admixture) is refused with AE, and a radiology cancel (ORC CA + OBR) with AR:
neither publishes anything.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import select

from hub.config import Settings
from hub.entrypoints.inprocess import RunningHub, running_hub
from hub.entrypoints.mllp_client import MllpClient
from hub.messaging.topology import Topology
from hub.persistence.audit import AuditTrail
from hub.persistence.database import read_connection
from hub.persistence.prescriptions import PrescriptionRepository, load_aggregate
from hub.persistence.tables import prescriptions
from tests.conftest import make_settings
from tests.support.events import EventSubscriber
from tests.support.hl7_data import JAHIS_INJECTION, JAHIS_THREE_ITEMS, message

ITEMS = ["000000011000185/1/108665201", "000000011000185/1/110626901", "000000011000185/2/100607002"]
CONTROL_ID = "20110701000001"


@pytest.fixture
def settings_db(amqp_url: str, database_url: str) -> Settings:
    return make_settings(amqp_url, database_url)


@pytest.fixture
def hub(settings_db: Settings) -> Iterator[RunningHub]:
    with running_hub(settings_db, steps=["intake"]) as running:
        yield running


@pytest.fixture
def events(settings_db: Settings) -> Iterator[EventSubscriber]:
    sub = EventSubscriber(settings_db.amqp_url.get_secret_value(), Topology(settings_db.broker_prefix).events_exchange)
    yield sub
    sub.close()


def _msa(ack: bytes) -> list[str]:
    return next(s for s in ack.split(b"\r") if s.startswith(b"MSA")).decode().split("|")


def _errs(ack: bytes) -> list[list[str]]:
    return [s.decode().split("|") for s in ack.split(b"\r") if s.startswith(b"ERR")]


def _states(hub: RunningHub) -> dict[str, str]:
    """placer number -> state of every prescription of the sample's ORC-2."""
    with read_connection(hub.engine) as conn:
        rows = conn.execute(
            select(prescriptions.c.placer_order_number, prescriptions.c.state).where(
                prescriptions.c.placer_order_number.like("000000011000185%")
            )
        ).all()
    return {r.placer_order_number: r.state for r in rows}


def _drug_texts(hub: RunningHub) -> dict[str, str | None]:
    """placer number -> the drug text stored with each prescription (ISO-2022-JP decoded, all the way)."""
    with read_connection(hub.engine) as conn:
        repo = PrescriptionRepository(conn)
        ids = conn.execute(select(prescriptions.c.placer_order_number, prescriptions.c.id)).all()
        return {r.placer_order_number: load_aggregate(row).drug.text for r in ids if (row := repo.get(r.id))}


def _cancel_of_items_2_and_3() -> bytes:
    """The sample's own second and third ORDER groups with ORC-1 CA, under a new MSH-10."""
    segments = message(JAHIS_THREE_ITEMS).rstrip(b"\r").split(b"\r")
    header = [segments[0].replace(CONTROL_ID.encode(), b"20110702000001"), *segments[1:3]]
    groups = [s.replace(b"ORC|NW|", b"ORC|CA|") for s in segments[7:]]
    return b"\r".join(header + groups) + b"\r"


def test_a_jahis_prescription_is_one_prescription_per_item_resent_and_partly_cancelled(
    hub: RunningHub, events: EventSubscriber
) -> None:
    with MllpClient("127.0.0.1", hub.mllp_port) as client:
        first = client.send(message(JAHIS_THREE_ITEMS))
        assert _msa(first)[1:3] == ["AA", CONTROL_ID], first
        events.collect(lambda ev: len([e for e in ev if e["type"] == "prescription.received"]) >= 3)
        resent = client.send(message(JAHIS_THREE_ITEMS))
        events.drain(quiet_s=1.5)
    assert _msa(resent)[1:3] == ["AA", CONTROL_ID]
    assert sorted(_states(hub)) == ITEMS, "one prescription per ORDER group, and the resend added none"
    received = events.of_type("prescription.received")
    assert len(received) == 3 and len({e["correlationid"] for e in received}) == 3
    assert events.of_type("order.refused") == [], "no item refused as a second order"
    assert not [e for e in AuditTrail(hub.engine).query() if e.action == "duplicate-order"]
    assert _drug_texts(hub)[ITEMS[2]] == "アレピアチン１０倍散"  # the sample's full-width digits

    with MllpClient("127.0.0.1", hub.mllp_port) as client:
        cancel = client.send(_cancel_of_items_2_and_3())
    assert _msa(cancel)[1] == "AA", cancel
    events.collect(lambda ev: len([e for e in ev if e["type"] == "prescription.cancelled"]) >= 2)
    events.drain(quiet_s=1.0)
    states = _states(hub)
    assert states[ITEMS[1]] == states[ITEMS[2]] == "cancelled"
    assert states[ITEMS[0]] != "cancelled", "the cancel named items 2 and 3, not the first two items"


def test_an_iv_admixture_and_a_radiology_cancel_are_refused_and_publish_nothing(
    hub: RunningHub, events: EventSubscriber
) -> None:
    radiology_cancel = "\r".join(
        [
            "MSH|^~\\&|RIS|HOSP|RXHUB|PHARM|20250101120000||ORM^O01|RAD-1|P|2.3",
            "PID|1||MRN1^^^HOSP^MR||DOE^JANE||19800102|F",
            "ORC|CA|ACC1|ACC1",
            "OBR|1|ACC1|ACC1|71045^Xray exam chest 1 view^C4",
        ]
    ).encode()
    with MllpClient("127.0.0.1", hub.mllp_port) as client:
        iv = client.send(message(JAHIS_INJECTION))
        rad = client.send(radiology_cancel)
    events.drain(quiet_s=1.5)
    assert _msa(iv)[1:3] == ["AE", CONTROL_ID], iv
    assert [(e[2], e[3].split("^")[0]) for e in _errs(iv)] == [("RXC^1", "200"), ("RXC^3", "200"), ("RXC^5", "200")]
    assert "does not take IV admixtures" in _errs(iv)[0][8]
    assert _msa(rad)[1:3] == ["AR", "RAD-1"], rad
    assert [e[1] for e in _errs(rad)] == ["OBR^1^^200&Unsupported message type&HL70357"]  # v2.3: ERR-1 ELD
    assert events.events == [], "a refused message publishes nothing"
    with read_connection(hub.engine) as conn:
        assert conn.execute(select(prescriptions.c.id)).all() == []
