"""Garbage payer answers (NCPDP D.0) on the payer-responses queue: the consumer must not crash or stall.

An unreadable answer for a known-shaped exchange id becomes a "no answer" command (the claim worker
ignores it for an unknown claim); an answer naming no exchange is dead-lettered as a validation failure.
Either way the queue drains and the worker process lives.
"""

from __future__ import annotations

import time
import uuid
from datetime import date
from decimal import Decimal

import pika
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.ncpdp.d0 import ClaimResponse, TransactionResponse, build_claim_response
from adapters.ncpdp.d0.response_segments import ResponsePricingSegment, ResponseStatusSegment
from hub.messaging.dead_letters import DeadLetterQueue
from tests.fuzz.conftest import TRIED, FuzzHub

FUZZ = settings(
    max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
SEPARATORS = [b"\x1e", b"\x1d", b"\x1c", b"|", b"\r", b"\n", b""]


def paid_answer() -> bytes:
    """A well-formed B1 paid answer to damage."""
    pricing = ResponsePricingSegment(
        patient_pay=Decimal("5.00"),
        ingredient_cost_paid=Decimal("2.40"),
        dispensing_fee_paid=Decimal("1.75"),
        total_paid=Decimal("0.00"),
    )
    return build_claim_response(
        ClaimResponse(
            transaction_code="B1",
            header_response_status="A",
            service_provider_id="1234567893",
            date_of_service=date(2026, 3, 1),
            message=None,
            transactions=(
                TransactionResponse(
                    status=ResponseStatusSegment(transaction_status="P", authorization_number="SIM1"), pricing=pricing
                ),
            ),
        )
    )


def _damaged(good: bytes) -> st.SearchStrategy[bytes]:
    swap = st.tuples(st.sampled_from(SEPARATORS[:3]), st.sampled_from(SEPARATORS)).map(
        lambda p: good.replace(p[0], p[1])
    )
    truncated = st.integers(0, 80).map(lambda n: good[:n])
    spliced = st.tuples(st.integers(0, len(good)), st.binary(max_size=50)).map(
        lambda p: good[: p[0]] + p[1] + good[p[0] :]
    )
    return st.one_of(swap, truncated, spliced, st.binary(max_size=600))


def _queue_depth(channel: pika.adapters.blocking_connection.BlockingChannel, queue: str) -> int:
    return int(channel.queue_declare(queue, passive=True).method.message_count)


def test_garbage_payer_answers_never_stop_the_consumer(fuzz_hub: FuzzHub) -> None:
    topology = fuzz_hub.topology
    dead = DeadLetterQueue(fuzz_hub.env.amqp_url, topology)
    dead_before = dead.depth()
    connection = pika.BlockingConnection(pika.URLParameters(fuzz_hub.env.amqp_url))
    channel = connection.channel()
    channel.confirm_delivery()
    unnamed = 0

    def publish(body: bytes, exchange_id: str | None) -> None:
        props = pika.BasicProperties(
            message_id=str(uuid.uuid4()),
            correlation_id=exchange_id,
            delivery_mode=2,
            content_type="application/x-ncpdp-d0",
            headers={"x-rxhub-order-correlation": str(uuid.uuid4())},
        )
        channel.basic_publish("", topology.payer_responses_queue, body, props, mandatory=True)
        TRIED["d0 payer answers"] += 1

    @FUZZ
    @given(body=_damaged(paid_answer()), named=st.booleans())
    def send(body: bytes, named: bool) -> None:
        nonlocal unnamed
        exchange_id = f"{uuid.uuid4()}:0:1:B1" if named else None
        unnamed += not named
        publish(body, exchange_id)

    send()
    for bad_id in ("", "no-colons", "rx:x:y:B9", "rx:0:1:"):  # answers that name no claim exchange
        publish(paid_answer(), bad_id or None)
        unnamed += 1
    deadline = time.monotonic() + 60
    while _queue_depth(channel, topology.payer_responses_queue) and time.monotonic() < deadline:
        connection.sleep(0.5)
    while _queue_depth(channel, topology.work_queue("claim-responses")) and time.monotonic() < deadline:
        connection.sleep(0.5)
    connection.close()
    assert time.monotonic() < deadline, "the payer-responses consumer stalled"
    # an answer being retried is held by the consumer for a moment (both queues look empty meanwhile)
    while dead.depth() - dead_before < unnamed and time.monotonic() < deadline:
        time.sleep(0.5)
    assert dead.depth() - dead_before == unnamed, "only answers naming no claim exchange may be dead-lettered"
    fuzz_hub.assert_serving()
