"""Events to messages: the right structure per event type, filters per destination, stable control ids."""

from __future__ import annotations

import json
import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.hl7.outbound.control_ids import control_id_for
from adapters.hl7.outbound.destinations import SUPPORTED_EVENTS, DestinationConfig
from adapters.hl7.outbound.event_mapping import decode_cloudevent, message_for
from adapters.hl7.parsing import parse_message
from hub.domain.events import OrderRefused
from hub.domain.order_parts import ReplyTo, Setting
from hub.errors import MessageContentError
from tests.unit.hl7_outbound import samples


def _dest(**overrides: object) -> DestinationConfig:
    values: dict[str, object] = {
        "name": "ehr",
        "host": "127.0.0.1",
        "port": 1,
        "events": list(SUPPORTED_EVENTS),
        **overrides,
    }
    return DestinationConfig.model_validate(values)


def _message(event: object, dest: DestinationConfig | None = None, event_id: str | None = None) -> bytes:
    body = samples.cloudevent(event, event_id)  # type: ignore[arg-type]
    built = message_for(dest or _dest(), decode_cloudevent(body))
    assert built is not None
    return built.payload


@pytest.mark.parametrize(
    ("event", "msh9", "orc1", "orc5"),
    [
        (samples.received(), "ORM^O01^ORM_O01", "SC", "SC"),
        (samples.verified(), "ORM^O01^ORM_O01", "SC", "IP"),
        (samples.rejected(), "ORM^O01^ORM_O01", "OC", "CA"),
        (samples.cancelled(), "ORM^O01^ORM_O01", "OC", "CA"),
        (samples.cancelled(previous_state="filling"), "ORM^O01^ORM_O01", "OD", "DC"),
        (samples.dispensed(), "RDS^O13^RDS_O13", "RE", "CM"),  # nothing owed: complete
    ],
)
def test_each_event_type_becomes_its_message(event: object, msh9: str, orc1: str, orc5: str) -> None:
    parsed = parse_message(_message(event))
    msh = parsed.first("MSH")
    assert msh is not None and msh.raw(9) == msh9
    assert (parsed.get("ORC", 1), parsed.get("ORC", 5), parsed.get("ORC", 2)) == (orc1, orc5, "PL1")
    assert parsed.header.message_datetime == "20250304102030+0000"


def test_the_refusal_reason_reaches_orc_16() -> None:
    assert parse_message(_message(samples.rejected())).get("ORC", 16, 2) == "Dose exceeds maximum | see note"


def test_dispense_carries_lots_quantity_rx_number_and_pharmacist() -> None:
    parsed = parse_message(_message(samples.dispensed()))
    rxd = parsed.first("RXD")
    assert rxd is not None
    assert (rxd.get(2), rxd.get(4), rxd.get(5), rxd.get(7)) == ("00071015523", "30", "TAB", "RX1")
    assert rxd.get(10) == "", "without the stored record, no internal user id stands in for the pharmacist"
    assert rxd.raw(18) == "LOT-A~LOT-B" and rxd.raw(19) == "20260131~20260630"


def test_control_id_is_derived_from_the_event_id_and_stable() -> None:
    event_id = str(uuid.uuid4())
    first = _message(samples.received(), event_id=event_id)
    assert parse_message(first).header.control_id == control_id_for(event_id, "ehr")
    assert _message(samples.received(), event_id=event_id) == first


def test_events_not_subscribed_or_filtered_out_give_nothing() -> None:
    body = decode_cloudevent(samples.cloudevent(samples.received(system="OTHER")))
    assert message_for(_dest(facilities=["CLINIC"]), body) is None
    assert message_for(_dest(events=["prescription.dispensed"]), body) is None
    assert message_for(_dest(settings=["inpatient"]), body) is None
    assert message_for(_dest(facilities=["OTHER"]), body) is not None


def test_encoded_order_for_verified_inpatient_originals_only() -> None:
    cabinet = _dest(encoded_orders=True, version="2.5.1")
    raw = _message(samples.verified(setting=Setting.INPATIENT), cabinet)
    parsed = parse_message(raw)
    assert parsed.header.structure == "RDE_O11"
    assert (parsed.get("ORC", 1), parsed.get("RXE", 15)) == ("NW", "RX1")
    refill = decode_cloudevent(samples.cloudevent(samples.verified(setting=Setting.INPATIENT, fill_number=1)))
    assert message_for(cabinet, refill) is None
    outpatient = decode_cloudevent(samples.cloudevent(samples.verified()))
    assert message_for(cabinet, outpatient) is None


def test_unknown_event_types_and_broken_bodies_are_content_errors() -> None:
    good = json.loads(samples.cloudevent(samples.received()))
    for body in (
        b"",
        b"{}",
        json.dumps({**good, "type": "x.unknown"}).encode(),
        json.dumps({**good, "data": {}}).encode(),
        json.dumps({**good, "time": "yesterday"}).encode(),
    ):
        with pytest.raises(MessageContentError):
            decode_cloudevent(body)


def test_an_event_without_an_outbound_message_is_a_content_error() -> None:
    from hub.domain.workflow_events import FillVerified

    event = FillVerified(
        prescription_id="p",
        rx_number="RX1",
        fill_number=0,
        placer_order_number="PL1",
        setting=Setting.OUTPATIENT,
        state="ready",
        actor_id="ph",
        ndc="1",
    )
    dest = _dest().model_copy(update={"events": ("fill.verified",)})
    with pytest.raises(MessageContentError):
        message_for(dest, decode_cloudevent(samples.cloudevent(event)))


@given(st.binary(max_size=400))
def test_decoding_arbitrary_bytes_raises_only_our_error(body: bytes) -> None:
    try:
        decode_cloudevent(body)
    except MessageContentError:
        pass


def _refused(msh16: str | None) -> OrderRefused:
    reply = (
        ReplyTo(
            control_id="ORD-9", message_type="RDE", trigger_event="O11", version="2.5.1", application_ack_type=msh16
        )
        if msh16
        else None
    )
    return OrderRefused(
        prescription_id="p-RX1",
        refusal_id="r-1",
        code="duplicate-order",
        reason="refused: duplicate order",
        placer_order_number="PL1",
        placer_system="CLINIC",
        source="hl7",
        reply=reply,
        setting=Setting.OUTPATIENT,
    )


@pytest.mark.parametrize("msh16", ["AL", "ER"])
def test_a_refused_order_gets_an_application_reject_where_it_asked_for_one(msh16: str) -> None:
    acks = _dest(events=["prescription.received"], application_acks=True)
    assert "order.refused" in acks.subscribed, "bound without being listed: the placer asked for it"
    parsed = parse_message(_message(_refused(msh16), acks))
    assert (parsed.get("MSA", 1), parsed.get("MSA", 2), parsed.get("ORC", 1)) == ("AE", "ORD-9", "UA")


@pytest.mark.parametrize(("msh16", "acks"), [("SU", True), ("NE", True), (None, True), ("AL", False)])
def test_a_refused_order_gets_nothing_where_it_did_not_ask(msh16: str | None, acks: bool) -> None:
    dest = _dest(application_acks=acks)
    assert message_for(dest, decode_cloudevent(samples.cloudevent(_refused(msh16)))) is None


def test_an_order_that_asked_for_errors_only_gets_no_application_accept() -> None:
    reply = ReplyTo(
        control_id="ORD-9", message_type="RDE", trigger_event="O11", version="2.5.1", application_ack_type="ER"
    )
    received = samples.received().model_copy(update={"reply": reply})
    parsed = parse_message(_message(received, _dest(application_acks=True)))
    assert parsed.first("MSA") is None and parsed.get("ORC", 1) == "SC", "a status update, not an RRE AA"
