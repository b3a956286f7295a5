"""Broker least privilege applied on the test vhost: a subscriber reads its own queue bound to the events
exchange and nothing else; it cannot publish commands.  A listener publishes commands and reads nothing."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from urllib.parse import urlsplit

import pika
import pika.exceptions as pe
import pytest

from hub.messaging.topology import Topology, declare
from hub.security import broker_users


@pytest.fixture(scope="module")
def applied(amqp_url: str) -> Iterator[tuple[str, Topology, dict[str, str]]]:
    prefix = f"t{uuid.uuid4().hex[:10]}"
    topology = Topology(prefix)
    admin = pika.BlockingConnection(pika.URLParameters(amqp_url))
    declare(admin.channel(), topology)
    admin.close()
    vhost = urlsplit(amqp_url).path.lstrip("/")
    users = broker_users.hub_users(prefix, subscribers=("acme",))
    passwords = broker_users.apply(users, vhost)
    try:
        yield vhost, topology, passwords
    finally:
        broker_users.remove(users)
        conn = pika.BlockingConnection(pika.URLParameters(amqp_url))
        from hub.messaging.topology import delete

        delete(conn.channel(), topology)
        conn.close()


def _as(user: str, password: str, vhost: str) -> pika.BlockingConnection:
    return pika.BlockingConnection(
        pika.ConnectionParameters("127.0.0.1", 5672, vhost, pika.PlainCredentials(user, password))
    )


def test_a_subscriber_reads_events_on_its_own_queue_and_cannot_publish_commands(
    applied: tuple[str, Topology, dict[str, str]],
) -> None:
    vhost, topology, passwords = applied
    name = f"{topology.prefix}-sub-acme"
    conn = _as(name, passwords[name], vhost)
    try:
        channel = conn.channel()
        queue = f"{name}.prescriptions"
        channel.queue_declare(queue, durable=True)
        channel.queue_bind(queue, topology.events_exchange, "prescription.#")
        assert channel.queue_declare(queue, passive=True).method.message_count == 0
        channel.basic_publish(topology.commands_exchange, "ReceivePrescription", b"{}")
        with pytest.raises(pe.ChannelClosedByBroker) as refused:
            channel.queue_declare(queue, passive=True)  # the refusal arrives on the next round trip
        assert refused.value.reply_code == 403
        channel = conn.channel()
        with pytest.raises(pe.ChannelClosedByBroker) as refused:
            channel.queue_bind(queue, topology.commands_exchange, "ReceivePrescription")
        assert refused.value.reply_code == 403
        channel = conn.channel()
        with pytest.raises(pe.ChannelClosedByBroker) as refused:
            channel.basic_get(topology.work_queue("intake"))
        assert refused.value.reply_code == 403
        channel = conn.channel()
        channel.queue_delete(queue)
    finally:
        conn.close()


def test_a_listener_publishes_commands_and_reads_nothing(applied: tuple[str, Topology, dict[str, str]]) -> None:
    vhost, topology, passwords = applied
    name = f"{topology.prefix}-listener"
    conn = _as(name, passwords[name], vhost)
    try:
        channel = conn.channel()
        channel.confirm_delivery()
        channel.basic_publish(topology.commands_exchange, "nothing-bound", b"{}")  # confirmed: write allowed
        with pytest.raises(pe.ChannelClosedByBroker) as refused:
            channel.basic_publish(topology.events_exchange, "prescription.ready", b"{}")
        assert refused.value.reply_code == 403
        channel = conn.channel()
        with pytest.raises(pe.ChannelClosedByBroker) as refused:
            channel.basic_get(topology.work_queue("intake"))
        assert refused.value.reply_code == 403
    finally:
        conn.close()


def test_the_printed_script_carries_no_password_and_argv_has_none() -> None:
    users = broker_users.hub_users("rxhub", subscribers=("acme",))
    script = broker_users.render(users, "/")
    assert "rabbitmqctl set_permissions -p '/' rxhub-sub-acme '^rxhub\\-sub\\-acme\\.'" in script
    assert all(len(argv) in (3, 8) for argv in broker_users.commands(users, "/"))
