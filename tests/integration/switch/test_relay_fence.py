"""The outbox relay's fence: a claim row republished from the table after a later transmission of its fill went
out is kept from the payer and noted, on the payer simulator's path as on the switch's (real broker, both
databases)."""

from __future__ import annotations

import uuid

import pika
from sqlalchemy import Engine

from hub.config import Settings
from hub.messaging.outbox_relay import OutboxRelay
from hub.messaging.pipelined_publisher import PipelinedPublisher
from hub.messaging.topology import Topology, declare
from hub.persistence.claims import ClaimLedger
from hub.persistence.outbox_store import OutboxStore
from hub.persistence.unit_of_work import unit_of_work
from tests.support.signing import TEST_KEYS

RX = "rx-relay"


def _sent(engine: Engine, attempt: int, transaction: str) -> str:
    xid = f"{RX}:0:{attempt}:{transaction}"
    with engine.begin() as conn:
        ClaimLedger(conn).sent(
            exchange_id=xid,
            prescription_id=RX,
            fill_number=0,
            attempt=attempt,
            transaction=transaction,
            purpose="billing",
            resends=0,
        )
    return xid


def _claim_row(engine: Engine, xid: str, reply_to: str) -> str:
    row_id = str(uuid.uuid4())
    with unit_of_work(engine) as uow:
        uow.add_raw(
            row_id=row_id,
            target="payer",
            routing_key="999001.RXHUBSIM",
            message_type=xid[-2:],
            content_type="application/x-ncpdp-d0",
            correlation_id=xid,
            body=b"D0 bytes",
            headers={"reply_to": reply_to},
        )
    return row_id


def test_a_republished_stale_reversal_never_reaches_the_payer(switch_settings: Settings, engine: Engine) -> None:
    url = switch_settings.amqp_url.get_secret_value()
    topology = Topology(switch_settings.broker_prefix)
    connection = pika.BlockingConnection(pika.URLParameters(url))
    channel = connection.channel()
    declare(channel, topology)
    watch = f"{topology.prefix}.payer-watch"
    channel.queue_declare(watch, durable=True)
    channel.queue_bind(watch, topology.payer_exchange, "999001.#")
    publisher = PipelinedPublisher(url)
    try:
        _sent(engine, 1, "B1")
        old_reversal = _sent(engine, 1, "B2")
        newer = _sent(engine, 2, "B1")
        _claim_row(engine, old_reversal, topology.payer_responses_queue)  # a copy the relay never marked sent
        _claim_row(engine, newer, topology.payer_responses_queue)
        store = OutboxStore(engine)
        relay = OutboxRelay(store, publisher, topology, keys=TEST_KEYS)
        assert relay.drain_once() == 2, "both rows are settled"
        assert store.backlog() == 0
        method, props, _ = channel.basic_get(watch, auto_ack=True)
        assert method is not None and props.correlation_id == newer
        assert channel.basic_get(watch, auto_ack=True)[0] is None, "the stale B2 never went out"
        with engine.connect() as conn:
            [note] = ClaimLedger(conn).wire_log(RX)
        assert (note.exchange_id, note.event, note.detail) == (
            old_reversal,
            "dropped",
            f"relay: stale: {newer} is the fill's latest transmission",
        )
    finally:
        publisher.close()  # else its loop outlives the test and reconnects to a deleted vhost for good
        channel.queue_delete(watch)
        connection.close()
