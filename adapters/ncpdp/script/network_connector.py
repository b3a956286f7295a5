"""The prescriber connector: outbound SCRIPT from ``<prefix>.script-out`` POSTed to the SCRIPT network.

One message in flight (prefetch 1), acked only once settled, so nothing is lost and order holds:

* Status 000/010 or Verify                -> ack (delivered / confirmed)
* Error (not 600), HTTP 4xx               -> dead letter (``validation``) with the code and description, ack
* no endpoint serves the recipient        -> dead letter (``validation``), ack
* Error 600, HTTP 5xx, refused, timed out -> the same bytes again after a growing pause, up to the endpoint's
                                             ``max_attempts``, then dead letter (``transient_exhausted``), ack
* stopped or broker lost mid-delivery     -> left unacked: the broker redelivers it, the next run resends it
                                             under the same MessageID (networks dedupe on it)

Dead letters keep the message's headers (its recipient among them) and ``x-rxhub-queue`` = script-out, so
``rxhub dead-letters replay`` puts them back here. A MessageID delivered moments ago (the responder ran twice
for one event) is acked without a second POST.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from datetime import UTC, datetime
from typing import Any

import pika
import pika.exceptions as pe
from pika.adapters.blocking_connection import BlockingChannel
from pika.spec import BasicProperties

from adapters.ncpdp.script.network_answers import NetworkAnswer, Outcome
from adapters.ncpdp.script.network_client import NetworkClient
from adapters.ncpdp.script.network_config import ScriptEndpoint, endpoint_for
from adapters.ncpdp.script.outbound_responder import TO_HEADER
from adapters.ncpdp.script.outbound_topology import ScriptOutTopology
from hub.errors import RxHubError
from hub.messaging.blocking_publisher import connect
from hub.messaging.topology import Topology, declare
from hub.observability.metrics import OUTBOUND, OUTBOUND_FAILURES, start_destination_at_zero

log = logging.getLogger(__name__)

#: how many delivered MessageIDs are remembered to drop a duplicate publish of the same answer
_REMEMBERED = 10_000


def metric_name(endpoint: ScriptEndpoint) -> str:
    """The ``destination`` label of an endpoint's outbound metrics."""
    return f"script:{endpoint.name}"


class ConnectorState:
    """What the connector is doing, for readiness and operators (lock-guarded: read from other threads)."""

    def __init__(self) -> None:
        self.ready = threading.Event()
        self._lock = threading.Lock()
        self.in_flight: str | None = None
        self.attempts = 0
        self.last_error: str | None = None
        self.settled: dict[str, int] = {}

    def begin(self, message_id: str) -> None:
        """A message is being delivered."""
        with self._lock:
            self.in_flight, self.attempts = message_id, 0

    def failed(self, error: str) -> None:
        """One attempt got no usable answer."""
        with self._lock:
            self.attempts += 1
            self.last_error = error

    def settle(self, outcome: str, error: str | None = None) -> None:
        """The message in flight is done with."""
        with self._lock:
            self.in_flight, self.attempts = None, 0
            self.settled[outcome] = self.settled.get(outcome, 0) + 1
            if error is not None:
                self.last_error = error

    def snapshot(self) -> dict[str, Any]:
        """A copy for status output."""
        with self._lock:
            return {
                "in_flight": self.in_flight,
                "attempts": self.attempts,
                "last_error": self.last_error,
                **self.settled,
            }


class ScriptConnector:
    """Consumes script-out and delivers each message to its endpoint; reconnects to the broker."""

    def __init__(
        self,
        amqp_url: str,
        topology: Topology,
        endpoints: tuple[ScriptEndpoint, ...],
        state: ConnectorState | None = None,
    ) -> None:
        self.amqp_url = amqp_url
        self.topology = ScriptOutTopology.of(topology)
        self.endpoints = endpoints
        self.state = state or ConnectorState()
        self._clients: dict[str, NetworkClient] = {}
        self._delivered: OrderedDict[str, None] = OrderedDict()
        for endpoint in endpoints:
            start_destination_at_zero(metric_name(endpoint))

    def run(self, stop: threading.Event) -> None:
        """Deliver until ``stop`` is set; survives broker restarts and network outages."""
        backoff = 0.2
        try:
            while not stop.is_set():
                try:
                    self._consume(stop)
                    backoff = 0.2
                except (pe.AMQPError, OSError, RxHubError) as exc:
                    log.warning("SCRIPT connector lost the broker: %r; reconnecting", exc)
                    stop.wait(backoff)
                    backoff = min(backoff * 2, 5.0)
        finally:
            for client in self._clients.values():
                client.close()

    def _consume(self, stop: threading.Event) -> None:
        connection = connect(self.amqp_url)
        try:
            channel = connection.channel()
            declare(channel, self.topology)
            channel.basic_qos(prefetch_count=1)
            side = connection.channel()
            side.confirm_delivery()
            self.state.ready.set()
            for method, props, body in channel.consume(self.topology.script_out_queue, inactivity_timeout=0.5):
                if stop.is_set() or (method is not None and not self._handle(connection, side, props, body, stop)):
                    break
                if method is not None:
                    channel.basic_ack(method.delivery_tag)
        finally:
            self.state.ready.clear()
            if connection.is_open:
                connection.close()

    def _handle(
        self,
        connection: pika.BlockingConnection,
        side: BlockingChannel,
        props: BasicProperties,
        body: bytes,
        stop: threading.Event,
    ) -> bool:
        """Settle one message; False when stopped before it was (left unacked)."""
        message_id = props.message_id or ""
        recipient = str((props.headers or {}).get(TO_HEADER, ""))
        if message_id in self._delivered:
            log.info("SCRIPT %s already delivered; duplicate dropped", message_id)
            return True
        endpoint = endpoint_for(self.endpoints, recipient)
        if endpoint is None:
            self._dead_letter(
                side, props, body, f"no SCRIPT network endpoint serves {recipient!r}", "validation", "unrouted"
            )
            self.state.settle("dead_lettered", f"no endpoint for {recipient!r}")
            return True
        self.state.begin(message_id)
        answer = self._deliver(connection, endpoint, body, message_id, stop)
        if answer is None:
            return False
        name = metric_name(endpoint)
        if answer.outcome in (Outcome.DELIVERED, Outcome.CONFIRMED):
            self._remember(message_id)
            OUTBOUND.labels(name, "delivered").inc()
            self.state.settle(answer.outcome.value)
            log.info("SCRIPT %s %s by %s (%s)", message_id, answer.outcome.value, endpoint.name, answer.text())
            return True
        refused = answer.outcome is Outcome.REFUSED
        error = answer.text() if refused else f"gave up after {endpoint.max_attempts} attempts: {answer.text()}"
        self._dead_letter(side, props, body, error, "validation" if refused else "transient_exhausted", endpoint.name)
        OUTBOUND.labels(name, "dead_lettered").inc()
        self.state.settle("dead_lettered", error)
        return True

    def _deliver(
        self,
        connection: pika.BlockingConnection,
        endpoint: ScriptEndpoint,
        body: bytes,
        message_id: str,
        stop: threading.Event,
    ) -> NetworkAnswer | None:
        """POST until an answer settles it or attempts run out; None when stopped meanwhile."""
        client = self._clients.get(endpoint.name) or self._clients.setdefault(endpoint.name, NetworkClient(endpoint))
        pause = endpoint.backoff_initial_s
        for attempt in range(1, endpoint.max_attempts + 1):
            answer = client.post(body, message_id)
            if answer.settled:
                return answer
            OUTBOUND_FAILURES.labels(metric_name(endpoint)).inc()
            self.state.failed(answer.text())
            log.warning(
                "SCRIPT %s to %s not delivered (attempt %d of %d): %s",
                message_id,
                endpoint.name,
                attempt,
                endpoint.max_attempts,
                answer.text(),
            )
            if attempt == endpoint.max_attempts:
                return answer
            if not _pause(connection, pause, stop):
                return None
            pause = min(pause * 2, endpoint.backoff_max_s)
        raise AssertionError("unreachable")

    def _remember(self, message_id: str) -> None:
        self._delivered[message_id] = None
        while len(self._delivered) > _REMEMBERED:
            self._delivered.popitem(last=False)

    def _dead_letter(
        self, side: BlockingChannel, props: BasicProperties, body: bytes, error: str, kind: str, endpoint: str
    ) -> None:
        now = datetime.now(UTC).isoformat()
        headers: dict[str, Any] = {
            **(props.headers or {}),
            "x-rxhub-error": error[:1000],
            "x-rxhub-failure-kind": kind,
            "x-rxhub-queue": self.topology.script_out_queue,
            "x-rxhub-destination": f"script:{endpoint}",
            "x-rxhub-first-failure": now,
            "x-rxhub-last-failure": now,
        }
        copy = pika.BasicProperties(
            content_type=props.content_type,
            delivery_mode=2,
            message_id=props.message_id,
            correlation_id=props.correlation_id,
            type=props.type,
            timestamp=props.timestamp,
            app_id=props.app_id,
            headers=headers,
        )
        log.error("SCRIPT %s %s dead-lettered (%s): %s", props.type, props.message_id, kind, error)
        side.basic_publish(self.topology.dead_letter_exchange, f"script-network.{endpoint}", body, copy, mandatory=True)


def _pause(connection: pika.BlockingConnection, seconds: float, stop: threading.Event) -> bool:
    """Wait ``seconds`` while keeping the broker connection alive; False when stopped meanwhile."""
    until = time.monotonic() + seconds
    while (left := until - time.monotonic()) > 0:
        if stop.is_set():
            return False
        connection.process_data_events(time_limit=min(left, 0.25))
    return not stop.is_set()


def run_script_connector(
    amqp_url: str,
    topology: Topology,
    endpoints: tuple[ScriptEndpoint, ...],
    stop: threading.Event,
    state: ConnectorState | None = None,
) -> None:
    """Run the connector in the calling thread until ``stop`` is set."""
    ScriptConnector(amqp_url, topology, endpoints, state).run(stop)
