"""The delivery loop against real MLLP receivers that misbehave in the ways engines get wrong."""

from __future__ import annotations

import threading
import time

from prometheus_client import REGISTRY

from adapters.hl7.outbound.ack_reading import AckKind
from adapters.hl7.outbound.delivery import Deliverer
from adapters.hl7.outbound.destinations import DestinationConfig
from adapters.hl7.outbound.event_mapping import OutboundMessage, decode_cloudevent, message_for
from tests.integration.hl7_outbound.receivers import Ack, Action, Drop, Receiver, Silent
from tests.unit.hl7_outbound import samples


def _config(port: int, **overrides: object) -> DestinationConfig:
    values: dict[str, object] = {
        "name": "ehr",
        "host": "127.0.0.1",
        "port": port,
        "events": ["prescription.received"],
        "ack_timeout_s": 0.5,
        "connect_timeout_s": 1,
        "backoff_initial_s": 0.05,
        "backoff_max_s": 0.2,
        **overrides,
    }
    return DestinationConfig.model_validate(values)


def _failures(destination: str) -> float:
    return REGISTRY.get_sample_value("rxhub_outbound_failures_total", {"destination": destination}) or 0.0


def _messages(config: DestinationConfig, count: int) -> list[OutboundMessage]:
    out = []
    for i in range(count):
        built = message_for(config, decode_cloudevent(samples.cloudevent(samples.received(rx=f"RX{i}"))))
        assert built is not None
        out.append(built)
    return out


def _run(receiver: Receiver, count: int, **overrides: object) -> tuple[Deliverer, list[OutboundMessage]]:
    receiver.start()
    deliverer = Deliverer(_config(receiver.port, **overrides))
    messages = _messages(deliverer.config, count)
    stop = threading.Event()
    for message in messages:
        verdict = deliverer.deliver(message, stop)
        assert verdict is not None and verdict.kind is AckKind.ACCEPTED, verdict
    deliverer.close()
    receiver.stop()
    return deliverer, messages


def test_a_slow_ack_past_the_timeout_means_a_resend_of_the_same_bytes() -> None:
    receiver = Receiver(lambda i, _c: [Ack(delay_s=1.0)] if i == 0 else [Ack()])
    _, messages = _run(receiver, 2)
    assert receiver.received[0] == receiver.received[1] == messages[0].payload
    assert receiver.delivered == [m.control_id for m in messages]


def test_a_late_ack_for_the_previous_message_never_settles_the_next() -> None:
    previous: list[str] = []

    def script(i: int, control_id: str) -> list[Action]:
        previous.append(control_id)
        return [Ack(control_id=previous[0]), Ack()] if i == 1 else [Ack()]

    receiver = Receiver(script)
    deliverer, messages = _run(receiver, 2)
    assert deliverer.state.stray_acks == 1
    # the stray was skipped and the real ACK came on the same attempt: each message sent once
    assert receiver.control_ids() == [m.control_id for m in messages]


def test_only_a_stale_ack_means_timeout_and_resend() -> None:
    seen: list[str] = []

    def script(i: int, control_id: str) -> list[Action]:
        seen.append(control_id)
        return [Ack(control_id=seen[0])] if i == 1 else [Ack()]

    receiver = Receiver(script)
    _, messages = _run(receiver, 2)
    assert receiver.control_ids() == [messages[0].control_id, messages[1].control_id, messages[1].control_id]
    assert receiver.delivered == [m.control_id for m in messages]


def test_ar_then_aa_resends_the_same_control_id() -> None:
    receiver = Receiver(lambda i, _c: [Ack("AR", error="busy")] if i == 0 else [Ack()])
    deliverer, messages = _run(receiver, 1)
    assert receiver.received == [messages[0].payload, messages[0].payload]
    assert deliverer.state.last_error is not None and deliverer.state.last_error.startswith("AR")


def test_a_dropped_connection_before_the_answer_means_reconnect_and_resend() -> None:
    receiver = Receiver(lambda i, _c: [Drop()] if i in (0, 1) else [Ack()])
    _, messages = _run(receiver, 2)
    assert receiver.control_ids() == [messages[0].control_id] * 3 + [messages[1].control_id]


def test_ae_is_final_and_carries_the_receivers_text() -> None:
    receiver = Receiver(lambda _i, _c: [Ack("AE", error="unknown patient MRN")]).start()
    deliverer = Deliverer(_config(receiver.port))
    verdict = deliverer.deliver(_messages(deliverer.config, 1)[0], threading.Event())
    deliverer.close()
    receiver.stop()
    assert verdict is not None and verdict.kind is AckKind.ERROR
    assert "unknown patient MRN" in verdict.text
    assert len(receiver.received) == 1


def test_a_destination_that_comes_back_gets_the_message() -> None:
    receiver = Receiver().start()
    receiver.stop()  # keep its port, refuse connections for a while
    deliverer = Deliverer(_config(receiver.port, ack_timeout_s=10))
    message = _messages(deliverer.config, 1)[0]
    threading.Timer(1.0, receiver.start).start()
    started = time.monotonic()
    verdict = deliverer.deliver(message, threading.Event())
    deliverer.close()
    receiver.stop()
    assert verdict is not None and verdict.kind is AckKind.ACCEPTED
    assert time.monotonic() - started >= 0.9
    assert deliverer.state.counts["sent"] >= 1 and deliverer.state.last_error is not None
    assert receiver.delivered == [message.control_id]


def test_an_outage_never_uses_up_the_attempts() -> None:
    receiver = Receiver().start()
    receiver.stop()
    deliverer = Deliverer(_config(receiver.port, name="outage", max_attempts=1, ack_timeout_s=10))
    message = _messages(deliverer.config, 1)[0]
    before = _failures("outage")
    threading.Timer(1.0, receiver.start).start()
    verdict = deliverer.deliver(message, threading.Event())
    deliverer.close()
    receiver.stop()
    assert verdict is not None and verdict.kind is AckKind.ACCEPTED
    # refused connections, more than max_attempts: they were no sends, so they never counted
    assert _failures("outage") - before > 1 and deliverer.state.counts["sent"] == 1
    assert receiver.delivered == [message.control_id]


def test_ar_forever_gives_up_after_max_attempts_with_the_receivers_text() -> None:
    receiver = Receiver(lambda _i, _c: [Ack("AR", error="interface engine paused")]).start()
    deliverer = Deliverer(_config(receiver.port, max_attempts=3))
    message = _messages(deliverer.config, 1)[0]
    verdict = deliverer.deliver(message, threading.Event())
    deliverer.close()
    receiver.stop()
    assert verdict is not None and verdict.kind is AckKind.REJECTED and verdict.code == "AR"
    assert "interface engine paused" in verdict.text and "after 3 send(s)" in verdict.text
    assert receiver.received == [message.payload] * 3
    assert receiver.delivered == []


def test_retrying_stops_at_max_retry_s_even_before_max_attempts() -> None:
    receiver = Receiver(lambda _i, _c: [Silent()]).start()
    deliverer = Deliverer(_config(receiver.port, ack_timeout_s=0.2, max_attempts=1000, max_retry_s=0.5))
    verdict = deliverer.deliver(_messages(deliverer.config, 1)[0], threading.Event())
    deliverer.close()
    receiver.stop()
    assert verdict is not None and verdict.kind is AckKind.REJECTED and "no ACK within 0.2 s" in verdict.text
    assert 2 <= len(receiver.received) < 1000


def test_stop_while_waiting_leaves_the_message_unsettled() -> None:
    receiver = Receiver(lambda _i, _c: [Silent()]).start()
    deliverer = Deliverer(_config(receiver.port, ack_timeout_s=30))
    stop = threading.Event()
    threading.Timer(0.3, stop.set).start()
    assert deliverer.deliver(_messages(deliverer.config, 1)[0], stop) is None
    deliverer.close()
    receiver.stop()
