"""Dead letters can be listed without their bodies, replayed through the normal path, and replay is idempotent."""

from __future__ import annotations

import time
from pathlib import Path

import pika
from prometheus_client import REGISTRY

from hub.domain.commands import CancelPrescription
from hub.domain.order_parts import Source
from hub.entrypoints.inprocess import running_hub
from hub.entrypoints.mllp_client import MllpClient
from hub.entrypoints.runtime import topology_for
from hub.messaging.dead_letters import DeadLetterQueue
from hub.messaging.envelope import Envelope, order_correlation_id
from hub.persistence.prescriptions import PrescriptionRepository
from tests.conftest import make_settings
from tests.support.signing import hub_keys, signed

SAMPLE = Path(__file__).resolve().parents[2] / "samples" / "hl7" / "01_rde_o11_retail_amoxicillin.hl7"


def _wait(predicate, timeout_s: float = 20.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout_s
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def _handled(result: str) -> float:
    """How many cancels intake has handled with this result (a duplicate is acked without being applied)."""
    labels = {"step": "intake", "command": "CancelPrescription", "result": result}
    return REGISTRY.get_sample_value("rxhub_commands_total", labels) or 0.0


#: the principal of the sample's loopback MLLP sender (MSH-3/4 EHR|GENHOSP, bound to no feed): its orders' owner
SENDER = "hl7:EHR|GENHOSP"


def test_cancel_that_overtook_its_order_is_dead_lettered_then_replayed_once(amqp_url: str, sqlite_url: str) -> None:
    settings = make_settings(amqp_url, sqlite_url, max_retries=1, retry_delay_ms=100)
    dlq = DeadLetterQueue(amqp_url, topology_for(settings))
    cancel = Envelope.wrap(
        CancelPrescription(placer_order_number="PLC1001", placer_system="EHR", reason="dup"),
        correlation_id=order_correlation_id("EHR", "PLC1001", owner=SENDER),
        source=Source.HL7,
        principal=SENDER,
    )
    with running_hub(settings, steps=["intake"]) as hub:
        keys = hub_keys(settings)
        conn = pika.BlockingConnection(pika.URLParameters(amqp_url))
        ch = conn.channel()
        ch.basic_publish(topology_for(settings).commands_exchange, cancel.type, *signed(cancel, keys))
        conn.close()
        _wait(lambda: dlq.depth() == 1)
        [letter] = dlq.list()
        assert letter.message_id == str(cancel.message_id)
        assert letter.failure_kind == "transient_exhausted" and "arrived before the order" in letter.error
        assert letter.queue.endswith(".intake") and letter.retries == 1
        assert dlq.depth() == 1, "listing does not consume"

        with MllpClient("127.0.0.1", hub.mllp_port) as client:
            assert b"MSA|AA" in client.send(SAMPLE.read_bytes())

        def state() -> str | None:
            with hub.engine.connect() as c:
                row = PrescriptionRepository(c).by_placer("EHR", "PLC1001")
            return row.state if row else None

        _wait(lambda: state() not in (None, "received"))
        assert [x.message_id for x in dlq.replay(message_id=str(cancel.message_id))] == [str(cancel.message_id)]
        _wait(lambda: state() == "cancelled")
        assert dlq.depth() == 0
        with hub.engine.connect() as c:
            version = PrescriptionRepository(c).by_placer("EHR", "PLC1001").version  # type: ignore[union-attr]
        # the same command delivered again (a second replay, a redelivery) is skipped by idempotency
        skipped, applied = _handled("duplicate"), _handled("ok")
        conn = pika.BlockingConnection(pika.URLParameters(amqp_url))
        conn.channel().basic_publish(topology_for(settings).commands_exchange, cancel.type, *signed(cancel, keys))
        conn.close()
        _wait(lambda: _handled("duplicate") > skipped)
        assert _handled("ok") == applied, "the second copy was applied again"
        with hub.engine.connect() as c:
            assert PrescriptionRepository(c).by_placer("EHR", "PLC1001").version == version  # type: ignore[union-attr]
        assert dlq.depth() == 0
