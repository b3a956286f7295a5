"""Outbound senders on the real broker: events published as the hub does, real misbehaving MLLP receivers."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from adapters.hl7.outbound.control_ids import control_id_for
from adapters.hl7.outbound.destination_state import DestinationStatus, SenderState
from adapters.hl7.outbound.destinations import DestinationConfig
from adapters.hl7.outbound.sender import outbound_queue
from adapters.hl7.outbound.senders import OutboundSenders, outbound_status
from adapters.hl7.parsing import parse_message
from hub.config import Settings
from hub.domain.events import Event
from hub.messaging.amqp_properties import raw_properties
from hub.messaging.blocking_publisher import connect
from hub.messaging.cloudevents import CONTENT_TYPE
from hub.messaging.topology import Topology
from tests.integration.hl7_outbound.receivers import Ack, Action, Drop, Receiver, Silent, always_accept
from tests.unit.hl7_outbound import samples

EVENTS = ["prescription.received", "prescription.verified", "prescription.dispensed"]


def _config(port: int, **overrides: object) -> DestinationConfig:
    values: dict[str, object] = {
        "name": "clinic",
        "host": "127.0.0.1",
        "port": port,
        "events": EVENTS,
        "ack_timeout_s": 0.5,
        "connect_timeout_s": 1,
        "backoff_initial_s": 0.05,
        "backoff_max_s": 0.3,
        **overrides,
    }
    return DestinationConfig.model_validate(values)


def _publish(settings: Settings, topology: Topology, events: list[Event]) -> list[str]:
    """Publish like the outbox relay: CloudEvent body, routing key = type, message id = event id."""
    ids = []
    conn = connect(settings.amqp_url.get_secret_value())
    channel = conn.channel()
    channel.confirm_delivery()
    for event in events:
        event_id = str(uuid.uuid4())
        props = raw_properties(event_id, content_type=CONTENT_TYPE, message_type=event.name)
        channel.basic_publish(
            topology.events_exchange, event.name, samples.cloudevent(event, event_id), props, mandatory=True
        )
        ids.append(event_id)
    conn.close()
    return ids


def _orders(count: int) -> list[Event]:
    """Three events per order, the orders interleaved as they would be in a busy pharmacy."""
    steps: list[Callable[..., Event]] = [samples.received, samples.verified, samples.dispensed]
    return [step(rx=f"RX{n}", placer=f"PL{n}") for step in steps for n in range(count)]


def _dead_letters(settings: Settings, topology: Topology) -> list[tuple[dict[str, Any], bytes]]:
    conn = connect(settings.amqp_url.get_secret_value())
    channel = conn.channel()
    out = []
    while True:
        method, props, body = channel.basic_get(topology.dead_letter_queue, auto_ack=True)
        if method is None:
            break
        out.append((dict(props.headers or {}), body))
    conn.close()
    return out


def _wait_for(check: Callable[[], bool], timeout_s: float = 20.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.05)


@pytest.fixture
def topology(settings: Settings) -> Topology:
    return Topology(prefix=settings.broker_prefix)


@pytest.fixture
def run_senders(settings: Settings, topology: Topology) -> Iterator[Callable[..., OutboundSenders]]:
    started: list[OutboundSenders] = []

    def start(*configs: DestinationConfig) -> OutboundSenders:
        senders = OutboundSenders(settings.amqp_url.get_secret_value(), topology, configs)
        senders.start()
        started.append(senders)
        return senders

    yield start
    for senders in started:
        senders.stop()


def _misbehaving(i: int, control_id: str, seen: list[str]) -> list[Action]:
    seen.append(control_id)
    script: dict[int, list[Action]] = {
        1: [Ack(delay_s=1.0)],  # slow: past the 0.5 s timeout
        3: [Ack("AR", error="busy")],  # reject for now
        5: [Drop()],  # connection dropped before answering
        7: [Ack(control_id=seen[max(i - 1, 0)]), Ack()],  # a late ACK for the previous message, then ours
        9: [Ack(control_id=seen[max(i - 2, 0)])],  # only a stale ACK: timeout and resend
    }
    return script.get(i, [Ack()])


def test_every_event_is_delivered_once_in_order_despite_a_misbehaving_receiver(
    settings: Settings,
    topology: Topology,
    run_senders: Callable[..., OutboundSenders],
) -> None:
    seen: list[str] = []
    receiver = Receiver(lambda i, c: _misbehaving(i, c, seen)).start()
    senders = run_senders(_config(receiver.port))
    events = _orders(4)
    expected = [control_id_for(i, "clinic") for i in _publish(settings, topology, events)]

    delivered = receiver.wait_delivered(len(events))
    _wait_for(lambda: senders.status()[0].backlog == 0)
    receiver.stop()

    assert delivered == expected  # every event once, in publishing order (so in order per order)
    assert len(set(receiver.control_ids())) == len(events)  # resends reuse the control id, never a new one
    assert len(receiver.received) > len(events)  # the misbehaviour did force resends
    for cid in set(receiver.control_ids()):  # and each resend was the same bytes
        assert len({m for m in receiver.received if parse_message(m).header.control_id == cid}) == 1
    status = senders.status()[0]
    assert (status.delivered, status.dead_lettered, status.stray_acks) == (len(events), 0, 2)  # indexes 7 and 9
    assert _dead_letters(settings, topology) == []


def test_an_ae_dead_letters_the_event_with_the_receivers_text_and_the_rest_flows(
    settings: Settings,
    topology: Topology,
    run_senders: Callable[..., OutboundSenders],
) -> None:
    receiver = Receiver(lambda i, _c: [Ack("AE", error="unknown NDC")] if i == 1 else [Ack()]).start()
    senders = run_senders(_config(receiver.port))
    ids = _publish(settings, topology, _orders(1))

    _wait_for(lambda: senders.status()[0].backlog == 0 and senders.status()[0].delivered == 2)
    receiver.stop()

    assert receiver.delivered == [control_id_for(ids[0], "clinic"), control_id_for(ids[2], "clinic")]
    [(headers, body)] = _dead_letters(settings, topology)
    assert json.loads(body)["id"] == ids[1]
    assert "unknown NDC" in headers["x-rxhub-error"]
    assert headers["x-rxhub-failure-kind"] == "validation"
    assert headers["x-rxhub-control-id"] == control_id_for(ids[1], "clinic")
    assert senders.status()[0].dead_lettered == 1


def test_a_down_destination_builds_a_visible_backlog_that_drains_in_order(
    settings: Settings,
    topology: Topology,
    run_senders: Callable[..., OutboundSenders],
) -> None:
    receiver = Receiver(always_accept).start()
    receiver.stop()  # reserve the port; nothing listens
    senders = run_senders(_config(receiver.port))
    events = _orders(3)
    expected = [control_id_for(i, "clinic") for i in _publish(settings, topology, events)]

    _wait_for(
        lambda: (senders.status()[0].backlog or 0) == len(events) and senders.status()[0].state is SenderState.RETRYING
    )
    status: DestinationStatus = senders.status()[0]
    assert "cannot connect" in (status.last_error or "") and not status.connected
    assert status.oldest_age_s is not None and status.oldest_age_s > 0
    assert status.in_flight_control_id == expected[0]
    other_process = outbound_status(settings.amqp_url.get_secret_value(), topology, [senders.destinations[0]])[0]
    assert (other_process.state, other_process.backlog, other_process.consumers) == (
        SenderState.UNKNOWN,
        len(events) - 1,
        1,
    )

    receiver.start()
    assert receiver.wait_delivered(len(events)) == expected
    _wait_for(lambda: senders.status()[0].backlog == 0)
    receiver.stop()
    assert senders.status()[0].state is SenderState.IDLE


def test_a_message_in_flight_at_shutdown_is_resent_with_the_same_control_id_after_restart(
    settings: Settings,
    topology: Topology,
    run_senders: Callable[..., OutboundSenders],
) -> None:
    answering = {"on": False}
    receiver = Receiver(lambda _i, _c: [Ack()] if answering["on"] else [Silent()]).start()
    config = _config(receiver.port, ack_timeout_s=30)
    first = run_senders(config)
    [event_id] = _publish(settings, topology, [samples.received()])
    _wait_for(lambda: len(receiver.received) == 1)
    first.stop()

    answering["on"] = True
    second = run_senders(config)
    assert receiver.wait_delivered(1) == [control_id_for(event_id, "clinic")]
    _wait_for(lambda: second.status()[0].backlog == 0)
    receiver.stop()
    assert receiver.control_ids() == [control_id_for(event_id, "clinic")] * 2
    assert receiver.received[0] == receiver.received[1]


def test_destinations_are_independent_and_filtered(
    settings: Settings,
    topology: Topology,
    run_senders: Callable[..., OutboundSenders],
) -> None:
    down = Receiver(always_accept).start()
    down.stop()
    up = Receiver(always_accept).start()
    run_senders(_config(down.port, name="down"), _config(up.port, name="up", events=["prescription.dispensed"]))
    ids = _publish(settings, topology, _orders(2))

    assert up.wait_delivered(2) == [control_id_for(ids[4], "up"), control_id_for(ids[5], "up")]
    up.stop()
    conn = connect(settings.amqp_url.get_secret_value())
    depth = conn.channel().queue_declare(outbound_queue(topology, "down"), passive=True).method.message_count
    conn.close()
    assert depth == len(ids) - 1  # the down destination keeps its own backlog (one more is in flight)
