"""Events name the hub's patient; the patient's identifiers (MRN...) reach subscribers only where the deployment
turns ``RXHUB_EVENTS_INCLUDE_IDENTIFIERS`` on."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import select

from hub.entrypoints.inprocess import running_hub
from hub.entrypoints.mllp_client import MllpClient
from hub.messaging.topology import Topology
from hub.persistence.tables import prescriptions
from tests.conftest import make_settings
from tests.support.events import EventSubscriber

SAMPLE = Path(__file__).resolve().parents[2] / "samples" / "hl7" / "01_rde_o11_retail_amoxicillin.hl7"


def _received(amqp_url: str, sqlite_url: str, **settings: Any) -> tuple[dict[str, Any], str]:
    """The prescription.received event of the sample order, and the patient id the hub stored for it."""
    hub_settings = make_settings(amqp_url, sqlite_url, **settings)
    sub = EventSubscriber(amqp_url, Topology(hub_settings.broker_prefix).events_exchange, "prescription.received")
    try:
        with running_hub(hub_settings, steps=["intake"]) as hub, MllpClient("127.0.0.1", hub.mllp_port) as client:
            assert b"MSA|AA|" in client.send(SAMPLE.read_bytes())
            event = sub.collect(lambda events: len(events) >= 1)[0]
            with hub.engine.connect() as conn:
                patient_id = conn.execute(
                    select(prescriptions.c.patient_id).where(prescriptions.c.id == event["subject"])
                ).scalar_one()
    finally:
        sub.close()
    return event, str(patient_id)


def test_events_carry_the_hub_patient_id_and_no_identifiers_by_default(amqp_url: str, sqlite_url: str) -> None:
    event, patient_id = _received(amqp_url, sqlite_url)
    assert event["patientid"] == patient_id
    assert "patient_identifiers" not in event["data"]
    assert "MRN" not in str(event["data"]).upper()


def test_identifiers_are_sent_when_the_deployment_asks(amqp_url: str, sqlite_url: str) -> None:
    event, patient_id = _received(amqp_url, sqlite_url, events_include_identifiers=True)
    assert event["patientid"] == patient_id
    assert event["data"]["patient_identifiers"], "the order's MRN, for subscribers that match on it"
