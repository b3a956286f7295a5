"""The held delivery loop survives its own failures: a send or route that raises is retried or dead-lettered,
and the next message still goes (#29)."""

from __future__ import annotations

import threading

from pika.spec import BasicProperties

from adapters.ncpdp.script.outbound_topology import ScriptOutTopology
from hub.config import Settings
from hub.entrypoints.runtime import topology_for
from hub.messaging.dead_letters import DeadLetterQueue
from hub.messaging.held_delivery import Attempt, HeldDelivery, Outcome, Target
from tests.integration.script_network.network import publish_renewal
from tests.support.waiting import eventually


class FlakyTarget:
    """Raises on the first attempt at each message (a bug of ours, say), delivers on the next."""

    name, max_attempts, backoff_initial_s, backoff_max_s = "flaky", 3, 0.05, 0.1

    def __init__(self) -> None:
        self.seen: list[str] = []
        self.delivered: list[str] = []

    def send(self, _body: bytes, props: BasicProperties) -> Attempt:
        message_id = props.message_id or ""
        self.seen.append(message_id)
        if self.seen.count(message_id) == 1:
            raise RuntimeError("first attempt blew up")
        self.delivered.append(message_id)
        return Attempt(Outcome.DELIVERED, "ok")


def test_a_raising_send_is_retried_and_a_raising_route_dead_letters(settings: Settings) -> None:
    url, topology = settings.amqp_url.get_secret_value(), topology_for(settings)
    script = ScriptOutTopology.of(topology)
    target = FlakyTarget()

    def route(props: BasicProperties, _body: bytes) -> Target | str:
        if props.message_id == "POISON":
            raise KeyError("no such endpoint table")
        return target

    delivery = HeldDelivery(url, script, script.script_out_queue, route, kind="test", targets=("flaky",))
    stop = threading.Event()
    thread = threading.Thread(target=delivery.run, args=(stop,), daemon=True)
    thread.start()
    try:
        for message_id in ("FIRST", "POISON", "LAST"):
            publish_renewal(url, topology, message_id)
        eventually(lambda: target.delivered == ["FIRST", "LAST"] or None, "both good messages delivered")
        letters = DeadLetterQueue(url, topology).list()
        assert [(d.message_id, d.failure_kind) for d in letters] == [("POISON", "validation")]
        assert "cannot route: KeyError" in letters[0].error
        assert target.seen == ["FIRST", "FIRST", "LAST", "LAST"]
        assert thread.is_alive()
    finally:
        stop.set()
        thread.join(20)
