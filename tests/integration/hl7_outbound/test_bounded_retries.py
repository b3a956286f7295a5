"""Bounded retries against real misbehaving MLLP receivers on the real broker, with the state in the database.

A message the receiver got but would not accept is sent ``max_attempts`` times, then dead-lettered with the
receiver's words while the next one goes; an outage or a receiver that stops reading waits and delivers;
the state ``rxhub outbound status`` prints (the real CLI, another process) is the sender's own; a replayed
dead letter never overtakes a newer message of its order.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import REGISTRY
from sqlalchemy import Engine

from adapters.hl7.outbound.control_ids import control_id_for
from adapters.hl7.outbound.destination_state import DestinationStatus, SenderState
from adapters.hl7.outbound.destinations import DestinationConfig
from adapters.hl7.outbound.senders import OutboundSenders, outbound_status
from hub.config import Settings
from hub.domain.events import Event
from hub.entrypoints.runtime import open_database
from hub.messaging.amqp_properties import raw_properties
from hub.messaging.blocking_publisher import connect
from hub.messaging.cloudevents import CONTENT_TYPE
from hub.messaging.dead_letters import DeadLetterQueue
from hub.messaging.topology import Topology
from hub.persistence.outbound_state import OutboundStateStore
from tests.integration.hl7_outbound.receivers import Ack, Action, Drop, Garbage, Receiver, Silent
from tests.support.waiting import eventually
from tests.unit.hl7_outbound import samples

NAME = "ward"


def _config(port: int, **overrides: object) -> DestinationConfig:
    values: dict[str, object] = {
        "name": NAME,
        "host": "127.0.0.1",
        "port": port,
        "events": ["prescription.received", "prescription.verified", "prescription.dispensed"],
        "ack_timeout_s": 0.5,
        "connect_timeout_s": 1,
        "backoff_initial_s": 0.05,
        "backoff_max_s": 0.2,
        "max_attempts": 2,
        **overrides,
    }
    return DestinationConfig.model_validate(values)


def _publish(settings: Settings, topology: Topology, events: list[tuple[Event, int]]) -> list[str]:
    """Publish like the outbox relay; each event happened ``seconds`` from now."""
    return _publish_with_ids(settings, topology, [(str(uuid.uuid4()), event, at) for event, at in events])


def _dead_letters(settings: Settings, topology: Topology) -> list[tuple[dict[str, Any], bytes]]:
    """Take every dead letter off the queue."""
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


@pytest.fixture
def topology(settings: Settings) -> Topology:
    return Topology(prefix=settings.broker_prefix)


@pytest.fixture
def engine(settings: Settings) -> Engine:
    return open_database(settings)


@pytest.fixture
def run_senders(settings: Settings, topology: Topology, engine: Engine) -> Iterator[Callable[..., OutboundSenders]]:
    started: list[OutboundSenders] = []

    def start(config: DestinationConfig) -> OutboundSenders:
        senders = OutboundSenders(
            settings.amqp_url.get_secret_value(), topology, [config], store=OutboundStateStore(engine)
        )
        senders.start()
        started.append(senders)
        return senders

    yield start
    for senders in started:
        senders.stop()


def _stored(settings: Settings, topology: Topology, engine: Engine, config: DestinationConfig) -> DestinationStatus:
    """The status as another process sees it: the database row and the broker, no live sender state."""
    [status] = outbound_status(
        settings.amqp_url.get_secret_value(), topology, [config], store=OutboundStateStore(engine)
    )
    return status


def _when(
    read: Callable[[], DestinationStatus], check: Callable[[DestinationStatus], bool], what: str
) -> DestinationStatus:
    return eventually(lambda: s if check(s := read()) else None, what)


def _ar(_i: int, _c: str) -> list[Action]:
    return [Ack("AR", error="interface paused by the ward clerk")]


def _cr(_i: int, _c: str) -> list[Action]:
    return [Ack("CR", error="queue full")]


@pytest.mark.parametrize(
    ("misbehaviour", "words"),
    [
        (_ar, "AR: [207] interface paused by the ward clerk"),
        (_cr, "CR: [207] queue full"),
        (lambda _i, _c: [Silent()], "no ACK within 0.5 s"),
        (lambda _i, _c: [Drop()], "closed the connection"),
        (lambda _i, _c: [Garbage()], "no ACK within 0.5 s"),
    ],
    ids=["AR", "CR", "silence", "drop", "garbage"],
)
def test_a_message_never_accepted_is_dead_lettered_after_max_attempts_and_the_next_goes(
    settings: Settings,
    topology: Topology,
    engine: Engine,
    run_senders: Callable[..., OutboundSenders],
    misbehaviour: Callable[[int, str], list[Action]],
    words: str,
) -> None:
    stuck_on: list[str] = []

    def script(i: int, control_id: str) -> list[Action]:
        if i == 0:
            stuck_on.append(control_id)
        return misbehaviour(i, control_id) if control_id in stuck_on else [Ack()]

    receiver = Receiver(script).start()
    config = _config(receiver.port)
    senders = run_senders(config)
    ids = _publish(
        settings,
        topology,
        [(samples.received(rx="RX1"), 0), (samples.received(rx="RX2"), 1), (samples.verified(rx="RX2"), 2)],
    )

    assert receiver.wait_delivered(2) == [control_id_for(ids[1], NAME), control_id_for(ids[2], NAME)]
    status = _when(
        lambda: _stored(settings, topology, engine, config),
        lambda s: s.backlog == 0 and s.delivered == 2,
        "the backlog drained",
    )
    receiver.stop()

    assert receiver.control_ids().count(control_id_for(ids[0], NAME)) == 2  # max_attempts, no more
    [(headers, body)] = _dead_letters(settings, topology)
    assert json.loads(body)["id"] == ids[0]
    assert headers["x-rxhub-failure-kind"] == "transient_exhausted"
    assert words in headers["x-rxhub-error"] and "after 2 send(s)" in headers["x-rxhub-error"]
    assert headers["x-rxhub-retries"] == 1
    assert (status.dead_lettered, status.retried, status.sent) == (1, 1, 4)
    assert status.state is SenderState.IDLE and words in (status.last_error or "")
    assert senders.status()[0].dead_lettered == 1


def test_ae_is_dead_lettered_at_once_with_the_receivers_text(
    settings: Settings,
    topology: Topology,
    engine: Engine,
    run_senders: Callable[..., OutboundSenders],
) -> None:
    receiver = Receiver(lambda i, _c: [Ack("AE", error="unknown NDC 00000-0000-00")] if i == 0 else [Ack()])
    receiver.start()
    config = _config(receiver.port, max_attempts=5)
    run_senders(config)
    ids = _publish(settings, topology, [(samples.received(rx="RX1"), 0), (samples.verified(rx="RX1"), 1)])

    assert receiver.wait_delivered(1) == [control_id_for(ids[1], NAME)]
    _when(
        lambda: _stored(settings, topology, engine, config),
        lambda s: s.backlog == 0 and s.delivered == 1,
        "the backlog drained",
    )
    receiver.stop()
    assert len(receiver.received) == 2  # the AE'd message was sent once: resending the same bytes cannot help
    [(headers, _)] = _dead_letters(settings, topology)
    assert headers["x-rxhub-failure-kind"] == "validation" and "unknown NDC" in headers["x-rxhub-error"]


def _failures() -> float:
    return REGISTRY.get_sample_value("rxhub_outbound_failures_total", {"destination": NAME}) or 0.0


def test_an_outage_uses_up_no_attempts_and_then_delivers_in_order(
    settings: Settings,
    topology: Topology,
    engine: Engine,
    run_senders: Callable[..., OutboundSenders],
) -> None:
    receiver = Receiver().start()
    receiver.stop()  # the destination is down: connections refused
    config = _config(receiver.port)
    run_senders(config)
    before = _failures()
    events = [(samples.received(rx=f"RX{n}"), n) for n in range(3)]
    expected = [control_id_for(i, NAME) for i in _publish(settings, topology, events)]

    down = _when(
        lambda: _stored(settings, topology, engine, config),
        lambda s: s.state is SenderState.RETRYING and s.backlog == 3 and _failures() - before > 4,
        "more refused connections than max_attempts",
    )
    assert "cannot connect" in (down.last_error or "") and not down.connected and down.sent == 0
    assert down.in_flight_control_id == expected[0] and down.oldest_age_s is not None

    receiver.start()
    assert receiver.wait_delivered(3) == expected
    done = _when(
        lambda: _stored(settings, topology, engine, config),
        lambda s: s.backlog == 0 and s.delivered == 3,
        "the backlog drained",
    )
    receiver.stop()
    assert done.dead_lettered == 0 and done.state is SenderState.IDLE and done.connected
    assert _dead_letters(settings, topology) == []


def test_a_receiver_that_stops_reading_gets_resends_then_everything_once_in_order(
    settings: Settings,
    topology: Topology,
    engine: Engine,
    run_senders: Callable[..., OutboundSenders],
) -> None:
    receiver = Receiver()
    receiver.reading.clear()  # accepts connections and reads nothing
    receiver.start()
    config = _config(receiver.port, max_attempts=50)
    run_senders(config)
    events = [(samples.received(rx=f"RX{n}"), n) for n in range(3)]
    expected = [control_id_for(i, NAME) for i in _publish(settings, topology, events)]
    hung = _when(
        lambda: _stored(settings, topology, engine, config),
        lambda s: s.sent >= 2 and "no ACK" in (s.last_error or ""),
        "sends that got no ACK",
    )
    assert hung.state is SenderState.RETRYING and hung.backlog == 3
    receiver.reading.set()

    assert receiver.wait_delivered(3) == expected
    done = _when(
        lambda: _stored(settings, topology, engine, config),
        lambda s: s.backlog == 0 and s.delivered == 3,
        "the backlog drained",
    )
    receiver.stop()
    assert done.dead_lettered == 0 and done.retried >= 1
    assert _dead_letters(settings, topology) == []


def test_rxhub_outbound_status_shows_the_senders_state_from_another_process(
    settings: Settings,
    topology: Topology,
    engine: Engine,
    run_senders: Callable[..., OutboundSenders],
    tmp_path: Path,
) -> None:
    accepting = {"on": False}
    receiver = Receiver(lambda _i, _c: [Ack()] if accepting["on"] else [Ack("AR", error="paused")]).start()
    config = _config(receiver.port, max_attempts=1000, stuck_after_s=1.0)
    run_senders(config)
    ids = _publish(settings, topology, [(samples.received(rx=f"RX{n}"), n) for n in range(3)])
    _when(lambda: _stored(settings, topology, engine, config), lambda s: s.state is SenderState.STUCK, "stuck on AR")

    stuck = _cli_status(settings, config, tmp_path)
    assert stuck.startswith(f"{NAME} ") and " stuck " in stuck and " connected " in stuck
    assert "backlog=3 " in stuck  # the message in flight counts
    assert f"in flight={control_id_for(ids[0], NAME)} " in stuck
    assert 0 < int(stuck.split("oldest=")[1].split("s")[0]) < 600
    assert "last error=AR: [207] paused" in stuck
    attempts = int(stuck.split("attempts=")[1].split()[0])
    assert attempts >= 2

    accepting["on"] = True
    receiver.wait_delivered(3)
    _when(
        lambda: _stored(settings, topology, engine, config),
        lambda s: s.backlog == 0 and s.delivered == 3,
        "the backlog drained",
    )
    receiver.stop()
    idle = _cli_status(settings, config, tmp_path)
    assert " idle " in idle and "backlog=0 " in idle and "oldest=- " in idle and "in flight=- " in idle
    assert "delivered=3 " in idle and "dead-lettered=0 " in idle
    assert int(idle.split("retried=")[1].split()[0]) >= attempts - 1


def _cli_status(settings: Settings, config: DestinationConfig, tmp_path: Path) -> str:
    """``rxhub outbound status`` run as an operator would, in a process of its own."""
    return _rxhub(settings, config, tmp_path, "outbound", "status")


def _rxhub(settings: Settings, config: DestinationConfig, tmp_path: Path, *args: str) -> str:
    """An ``rxhub`` command in a process of its own; its output."""
    path = tmp_path / "destinations.json"
    path.write_text(json.dumps({"destinations": [config.model_dump(mode="json", exclude_none=True)]}))
    env = {
        **os.environ,
        "RXHUB_AMQP_URL": settings.amqp_url.get_secret_value(),
        "RXHUB_BROKER_PREFIX": settings.broker_prefix,
        "RXHUB_DATABASE_URL": settings.database_url.get_secret_value(),
        "RXHUB_OUTBOUND_DESTINATIONS": str(path),
    }
    ran = subprocess.run(
        [sys.executable, "-m", "hub.entrypoints.cli", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        check=False,
    )
    assert ran.returncode == 0, ran.stderr
    return ran.stdout


def test_a_replayed_dead_letter_never_overtakes_a_newer_message_of_its_order(
    settings: Settings,
    topology: Topology,
    engine: Engine,
    run_senders: Callable[..., OutboundSenders],
    tmp_path: Path,
) -> None:
    refusing: set[str] = set()
    receiver = Receiver(lambda _i, c: [Ack("AR", error="locked")] if c in refusing else [Ack()]).start()
    config = _config(receiver.port)
    run_senders(config)
    # RX1's status update is refused until dead-lettered; its dispense, later, goes. RX2's waits alone.
    status_update, rx2 = str(uuid.uuid4()), str(uuid.uuid4())
    refusing.update({control_id_for(status_update, NAME), control_id_for(rx2, NAME)})
    published = _publish_with_ids(
        settings,
        topology,
        [
            (status_update, samples.verified(rx="RX1"), 1),
            (rx2, samples.received(rx="RX2"), 2),
            (str(uuid.uuid4()), samples.dispensed(rx="RX1"), 3),
        ],
    )
    assert receiver.wait_delivered(1) == [control_id_for(published[2], NAME)]
    _when(
        lambda: _stored(settings, topology, engine, config),
        lambda s: s.dead_lettered == 2 and s.backlog == 0,
        "both dead-lettered",
    )
    refusing.clear()  # the receiver is fixed; the operator replays every dead letter

    dlq = DeadLetterQueue(settings.amqp_url.get_secret_value(), topology)
    assert {x.message_id for x in dlq.replay()} == {status_update, rx2}
    assert receiver.wait_delivered(2)[1] == control_id_for(rx2, NAME)  # nothing newer of RX2: delivered
    status = _when(
        lambda: _stored(settings, topology, engine, config),
        lambda s: s.superseded == 1,
        "the stale status update refused",
    )
    receiver.stop()

    assert control_id_for(status_update, NAME) not in receiver.delivered
    assert receiver.control_ids().count(control_id_for(status_update, NAME)) == 2  # not sent again
    listed = _rxhub(settings, config, tmp_path, "dlq", "list", "--kind", "superseded")
    assert listed.startswith("1 dead letter(s)") and status_update in listed and "would overtake it" in listed
    [(headers, body)] = _dead_letters(settings, topology)
    assert json.loads(body)["id"] == status_update and headers["x-rxhub-failure-kind"] == "superseded"
    assert "prescription.dispensed" in headers["x-rxhub-error"] and "overtake" in headers["x-rxhub-error"]
    assert status.delivered == 2


def test_replayed_dead_letters_of_one_order_go_in_their_order_when_neither_was_delivered(
    settings: Settings,
    topology: Topology,
    engine: Engine,
    run_senders: Callable[..., OutboundSenders],
) -> None:
    refusing = {"on": True}
    receiver = Receiver(lambda _i, _c: [Ack("AR", error="locked")] if refusing["on"] else [Ack()]).start()
    config = _config(receiver.port)
    run_senders(config)
    ids = _publish(settings, topology, [(samples.verified(rx="RX1"), 1), (samples.dispensed(rx="RX1"), 2)])
    _when(lambda: _stored(settings, topology, engine, config), lambda s: s.dead_lettered == 2, "both dead-lettered")
    refusing["on"] = False

    assert [x.message_id for x in DeadLetterQueue(settings.amqp_url.get_secret_value(), topology).replay()] == ids
    assert receiver.wait_delivered(2) == [control_id_for(i, NAME) for i in ids]
    done = _when(
        lambda: _stored(settings, topology, engine, config),
        lambda s: s.delivered == 2 and s.backlog == 0,
        "both delivered",
    )
    receiver.stop()
    assert done.superseded == 0 and _dead_letters(settings, topology) == []


def _publish_with_ids(settings: Settings, topology: Topology, events: list[tuple[str, Event, int]]) -> list[str]:
    now = datetime.now(UTC)
    conn = connect(settings.amqp_url.get_secret_value())
    channel = conn.channel()
    channel.confirm_delivery()
    for event_id, event, seconds in events:
        props = raw_properties(event_id, content_type=CONTENT_TYPE, message_type=event.name)
        body = samples.cloudevent(event, event_id, at=now + timedelta(seconds=seconds))
        channel.basic_publish(topology.events_exchange, event.name, body, props, mandatory=True)
    conn.close()
    return [event_id for event_id, _, _ in events]
