"""A confirming publisher for threads that own a blocking pika connection (workers, relay, CLI)."""

from __future__ import annotations

import logging
import ssl
import time

import pika
import pika.exceptions as pe

from hub.errors import BrokerNodesUnreachable, BrokerUnavailable, PublishNotConfirmed, PublishUnroutable
from hub.messaging import broker_nodes
from hub.messaging.async_publisher import OutgoingMessage
from hub.messaging.broker_failures import FAILURES
from hub.messaging.topology import Topology, declare

log = logging.getLogger(__name__)


def connect(
    amqp_url: str, *, attempts: int = 1, delay_s: float = 0.5, ssl_context: ssl.SSLContext | None = None
) -> pika.BlockingConnection:
    """Open a blocking connection to the first node of ``amqp_url`` (shuffled) that takes it.

    ``attempts`` rounds over every node; BrokerNodesUnreachable when none took it (each node's failure is
    counted and logged by :mod:`hub.messaging.broker_failures`).
    """
    last: Exception | None = None
    for round_ in range(max(attempts, 1)):
        if round_:
            time.sleep(delay_s)
        for node, params in broker_nodes.parameters(amqp_url, ssl_context=ssl_context, blocked_connection_timeout=30):
            try:
                connection = pika.BlockingConnection(params)
            except (pe.AMQPError, OSError) as exc:  # OSError: refused, reset, or a TLS certificate that fails
                FAILURES.failed(node.label, exc)
                last = exc
                continue
            FAILURES.connected(node.label)
            return connection
    raise BrokerNodesUnreachable(f"RabbitMQ is not reachable on any node: {last!r}") from last


class BlockingConfirmingPublisher:
    """Publishes one message at a time and returns only when the broker confirmed it stored."""

    def __init__(self, amqp_url: str, topology: Topology | None = None) -> None:
        self._url = amqp_url
        self._topology = topology
        self._connection: pika.BlockingConnection | None = None
        self._channel: pika.adapters.blocking_connection.BlockingChannel | None = None

    def _ensure(self) -> pika.adapters.blocking_connection.BlockingChannel:
        if self._channel is not None and self._channel.is_open:
            return self._channel
        self.close()
        self._connection = connect(self._url)
        channel = self._connection.channel()
        channel.confirm_delivery()
        if self._topology is not None:
            declare(channel, self._topology)
        self._channel = channel
        return channel

    def publish(self, message: OutgoingMessage) -> None:
        """Publish with mandatory + confirm; raise PublishNotConfirmed or BrokerUnavailable otherwise."""
        channel = self._ensure()
        try:
            channel.basic_publish(
                message.exchange,
                message.routing_key,
                message.body,
                message.properties,
                mandatory=message.mandatory,
            )
        except pe.UnroutableError as exc:
            raise PublishUnroutable(f"unroutable: nothing bound to {message.routing_key!r}") from exc
        except pe.NackError as exc:
            raise PublishNotConfirmed("broker nacked the message") from exc
        except (pe.AMQPError, OSError) as exc:
            self.close()
            raise BrokerUnavailable(f"publish failed: {exc!r}") from exc

    def publish_each(self, messages: list[OutgoingMessage]) -> list[BaseException | None]:
        """Publish one after another; each one's outcome (None: confirmed), the rest failed once the broker is gone."""
        results: list[BaseException | None] = []
        for message in messages:
            try:
                self.publish(message)
                results.append(None)
            except PublishNotConfirmed as exc:
                results.append(exc)
            except BrokerUnavailable as exc:
                results.extend([exc] * (len(messages) - len(results)))
                break
        return results

    def close(self) -> None:
        """Close the connection, ignoring errors from one that is already gone."""
        conn, self._connection, self._channel = self._connection, None, None
        if conn is not None and conn.is_open:
            try:
                conn.close()
            except pe.AMQPError:
                log.debug("closing a broken connection failed", exc_info=True)
