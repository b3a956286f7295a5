"""Cabinets stop what is stopped; the placer's cancel is answered as requested; one control id per destination."""

from __future__ import annotations

import uuid

import pytest

from adapters.hl7.outbound.destinations import SUPPORTED_EVENTS, DestinationConfig
from adapters.hl7.outbound.event_mapping import decode_cloudevent, message_for
from adapters.hl7.parsing import parse_message
from hub.domain.events import Event
from tests.unit.hl7_outbound import pipeline, samples


def _dest(name: str, **overrides: object) -> DestinationConfig:
    return DestinationConfig.model_validate(
        {"name": name, "host": "127.0.0.1", "port": 1, "events": ["prescription.verified"], **overrides}
    )


def _sent(
    dest: DestinationConfig, event: Event, records: pipeline.StoredRecords, event_id: str | None = None
) -> bytes | None:
    built = message_for(dest, decode_cloudevent(samples.cloudevent(event, event_id)), records)
    return None if built is None else built.payload


def _cancel_event(requested: str | None) -> tuple[pipeline.StoredRecords, Event]:
    records = pipeline.StoredRecords()
    _, events = pipeline.cancelled(records, requested) if requested else pipeline.verified(records)
    if requested is None:
        rx = records.by_id["rx-1"]
        events = rx.cancel(pipeline.SYSTEM, pipeline.NOW, "pharmacy stopped it")
    return records, next(e for e in events if e.name == "prescription.cancelled")


def test_a_cabinet_is_bound_to_cancellations_without_listing_them() -> None:
    cabinet = _dest("cabinet", encoded_orders=True)
    assert "prescription.cancelled" in cabinet.subscribed
    assert "prescription.cancelled" not in _dest("ehr").subscribed


@pytest.mark.parametrize(
    ("requested", "stop_control", "orc1"),
    [
        ("DC", "as_requested", "DC"),
        ("CA", "as_requested", "CA"),
        (None, "as_requested", "DC"),
        ("CA", "DC", "DC"),
        ("DC", "CA", "CA"),
    ],
)
def test_a_stopped_order_reaches_the_cabinet_as_an_rde_with_dc_or_ca(
    requested: str | None, stop_control: str, orc1: str
) -> None:
    records, event = _cancel_event(requested)
    raw = _sent(_dest("cabinet", encoded_orders=True, stop_control=stop_control), event, records)
    assert raw is not None
    parsed = parse_message(raw)
    assert parsed.header.structure == "RDE_O11"
    assert (parsed.get("ORC", 1), parsed.get("ORC", 5), parsed.get("ORC", 2)) == (orc1, orc1, "PLC1002")
    assert parsed.get("RXE", 2) == "00378020801" and parsed.get("PV1", 3) == "4WEST"


def test_an_order_stopped_before_the_cabinet_had_it_is_not_sent_there() -> None:
    records = pipeline.StoredRecords()
    rx, _ = pipeline.received(records)
    (event,) = [
        e for e in rx.cancel(pipeline.SYSTEM, pipeline.NOW, "never mind", "CA") if e.name == "prescription.cancelled"
    ]
    assert _sent(_dest("cabinet", encoded_orders=True), event, records) is None


@pytest.mark.parametrize(("requested", "orc1", "orc5"), [("CA", "CR", "CA"), ("DC", "DR", "DC"), (None, "OD", "DC")])
def test_the_placer_hears_its_own_cancel_answered_as_requested(requested: str | None, orc1: str, orc5: str) -> None:
    records, event = _cancel_event(requested)
    raw = _sent(_dest("ehr", events=list(SUPPORTED_EVENTS)), event, records)
    assert raw is not None
    parsed = parse_message(raw)
    assert (parsed.get("ORC", 1), parsed.get("ORC", 5)) == (orc1, orc5)


def test_two_destinations_get_different_control_ids_for_one_event() -> None:
    records = pipeline.StoredRecords()
    _, events = pipeline.verified(records)
    verified = next(e for e in events if e.name == "prescription.verified")
    event_id = str(uuid.uuid4())
    feed = _sent(_dest("ehr"), verified, records, event_id)
    cabinet = _sent(_dest("cabinet", encoded_orders=True), verified, records, event_id)
    assert feed is not None and cabinet is not None
    ids = [parse_message(m).header.control_id for m in (feed, cabinet)]
    assert ids[0] != ids[1]
    assert all(i.startswith(event_id.replace("-", "")[:12].upper()) for i in ids)
    assert _sent(_dest("ehr"), verified, records, event_id) == feed, "a resend keeps its control id"


@pytest.mark.parametrize("version", ["2.3", "2.5.1", "2.8"])
def test_status_updates_name_the_fill(version: str) -> None:
    records = pipeline.StoredRecords()
    _, events = pipeline.verified(records)
    verified = next(e for e in events if e.name == "prescription.verified")
    raw = _sent(_dest("ehr", version=version), verified, records)
    assert raw is not None
    assert parse_message(raw).get("NTE", 3) == "Fill 0 (original fill) of Rx 1000001"
