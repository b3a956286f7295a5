"""A confirming publisher on the asyncio loop, for the listeners' ACK path.

pika's ``AsyncioConnection`` lets many messages be in flight: each publish gets a future resolved by the
broker's confirm, so one slow round trip does not serialise every sender.  A message is only reported
stored when the broker confirmed it *and* did not return it as unroutable (mandatory flag): RabbitMQ
sends ``basic.return`` before the ``basic.ack`` of the same message, so a returned message id is
remembered and its ack turned into a failure.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from dataclasses import dataclass

import pika
from pika.adapters.asyncio_connection import AsyncioConnection
from pika.channel import Channel
from pika.spec import Basic, BasicProperties

from hub.errors import BrokerNodesUnreachable, BrokerUnavailable, PublishNotConfirmed, PublishUnroutable
from hub.messaging import broker_nodes
from hub.messaging.broker_failures import FAILURES
from hub.messaging.broker_nodes import BrokerNode

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class OutgoingMessage:
    """One message to publish, already serialised."""

    exchange: str
    routing_key: str
    body: bytes
    properties: BasicProperties
    #: commands must reach a queue; public events may have no subscriber yet
    mandatory: bool = True


class AsyncConfirmingPublisher:
    """Publishes with confirms on one connection and reconnects by itself when it is lost."""

    def __init__(
        self,
        amqp_url: str,
        *,
        confirm_timeout_s: float = 10.0,
        connect_timeout_s: float = 5.0,
        ssl_context: ssl.SSLContext | None = None,
    ):
        self._url, self._ssl = amqp_url, ssl_context
        #: the nodes still to try in this round (shuffled afresh when it is used up), and the one being tried
        self._untried: list[tuple[BrokerNode, pika.URLParameters]] = []
        self._node: BrokerNode | None = None
        self._confirm_timeout = confirm_timeout_s
        self._connect_timeout = connect_timeout_s
        self._connection: AsyncioConnection | None = None
        self._channel: Channel | None = None
        self._ready = asyncio.Event()
        self._closing = False
        self._next_tag = 0
        self._pending: dict[int, tuple[asyncio.Future[None], str]] = {}
        self._returned: set[str] = set()
        self._reconnect_task: asyncio.Task[None] | None = None

    @property
    def connected(self) -> bool:
        """True while a confirming channel is open."""
        return self._ready.is_set()

    async def start(self) -> None:
        """Open the connection; raises BrokerUnavailable if it cannot within the connect timeout."""
        self._closing = False
        self._open()
        await self._wait_ready()

    async def close(self) -> None:
        """Close cleanly; in-flight publishes fail with BrokerUnavailable."""
        self._closing = True
        if self._reconnect_task:
            self._reconnect_task.cancel()
        if self._connection and not (self._connection.is_closed or self._connection.is_closing):
            self._connection.close()
        self._fail_pending(BrokerUnavailable("publisher closed"))

    async def publish_all(self, messages: list[OutgoingMessage]) -> None:
        """Publish every message and return once the broker has confirmed all of them.

        Raises PublishNotConfirmed (nacked, returned, not confirmed in time) or BrokerUnavailable; then
        none of them may be reported as stored to the sender, who will resend.
        """
        if not messages:
            return
        await self._wait_ready()
        futures = [self._publish_one(m) for m in messages]
        try:
            await asyncio.wait_for(asyncio.gather(*futures), self._confirm_timeout)
        except TimeoutError as exc:
            raise PublishNotConfirmed(f"no broker confirm within {self._confirm_timeout}s") from exc

    async def publish_each(self, messages: list[OutgoingMessage]) -> list[BaseException | None]:
        """Publish every message with all of them in flight at once; each one's outcome (None: confirmed).

        For relays that settle message by message: a refused one (PublishNotConfirmed) does not hold back
        the others.  Raises BrokerUnavailable when the broker cannot be reached at all, PublishNotConfirmed
        when the confirms do not come in time.
        """
        if not messages:
            return []
        await self._wait_ready()
        futures = [self._publish_one(m) for m in messages]
        try:
            return await asyncio.wait_for(asyncio.gather(*futures, return_exceptions=True), self._confirm_timeout)
        except TimeoutError as exc:
            raise PublishNotConfirmed(f"no broker confirm within {self._confirm_timeout}s") from exc

    def _publish_one(self, message: OutgoingMessage) -> asyncio.Future[None]:
        channel = self._channel
        if channel is None or not channel.is_open:
            raise BrokerUnavailable("no open channel to RabbitMQ")
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        self._next_tag += 1
        self._pending[self._next_tag] = (future, message.properties.message_id or "")
        channel.basic_publish(
            message.exchange, message.routing_key, message.body, message.properties, mandatory=message.mandatory
        )
        return future

    async def _wait_ready(self) -> None:
        try:
            await asyncio.wait_for(self._ready.wait(), self._connect_timeout)
        except TimeoutError as exc:
            raise BrokerNodesUnreachable("RabbitMQ is not reachable on any node") from exc

    def _open(self) -> None:
        if not self._untried:
            self._untried = broker_nodes.parameters(self._url, ssl_context=self._ssl)
        self._node, params = self._untried.pop(0)
        self._connection = AsyncioConnection(
            params,
            on_open_callback=self._on_connection_open,
            on_open_error_callback=self._on_connection_error,
            on_close_callback=self._on_connection_closed,
            custom_ioloop=asyncio.get_running_loop(),
        )

    def _on_connection_open(self, connection: AsyncioConnection) -> None:
        if self._node is not None:
            FAILURES.connected(self._node.label)
        self._untried = []  # the next reconnect starts a fresh shuffled round
        connection.channel(on_open_callback=self._on_channel_open)

    def _on_channel_open(self, channel: Channel) -> None:
        self._channel = channel
        self._next_tag = 0
        channel.add_on_close_callback(self._on_channel_closed)
        channel.add_on_return_callback(self._on_return)
        channel.confirm_delivery(ack_nack_callback=self._on_confirm, callback=self._on_confirm_mode)

    def _on_confirm_mode(self, _frame: object) -> None:
        self._ready.set()
        log.info("publisher connected", extra={"event": "amqp.publisher.connected"})

    def _on_return(self, _ch: Channel, _method: Basic.Return, props: BasicProperties, _body: bytes) -> None:
        self._returned.add(props.message_id or "")

    def _on_confirm(self, frame: pika.frame.Method) -> None:
        method = frame.method
        tags = [t for t in self._pending if t <= method.delivery_tag] if method.multiple else [method.delivery_tag]
        nacked = isinstance(method, Basic.Nack)
        for tag in tags:
            entry = self._pending.pop(tag, None)
            if entry is None:
                continue
            future, message_id = entry
            returned = message_id in self._returned
            self._returned.discard(message_id)  # also when the publisher gave up waiting: nothing else clears it
            if future.done():
                continue
            if nacked:
                future.set_exception(PublishNotConfirmed("broker nacked the message"))
            elif returned:
                future.set_exception(PublishUnroutable("unroutable: no queue is bound for it"))
            else:
                future.set_result(None)

    def _on_channel_closed(self, _channel: Channel, reason: BaseException) -> None:
        self._lost(reason)

    def _on_connection_error(self, _connection: AsyncioConnection, reason: BaseException) -> None:
        if self._node is not None:
            FAILURES.failed(self._node.label, reason)
        self._lost(reason, quiet=True)

    def _on_connection_closed(self, _connection: AsyncioConnection, reason: BaseException) -> None:
        self._lost(reason)

    def _lost(self, reason: BaseException, *, quiet: bool = False) -> None:
        self._ready.clear()
        self._channel = None
        self._fail_pending(BrokerUnavailable(f"connection to RabbitMQ lost: {reason}"))
        if self._connection and not self._connection.is_closed and not self._connection.is_closing:
            self._connection.close()
        if not self._closing and (self._reconnect_task is None or self._reconnect_task.done()):
            if not quiet:  # a node that would not connect was reported by broker_failures, rate-limited
                log.warning("publisher lost its connection; reconnecting", extra={"event": "amqp.publisher.lost"})
            self._reconnect_task = asyncio.get_running_loop().create_task(self._reconnect())

    async def _reconnect(self) -> None:
        delay = 0.2
        while not self._closing and not self._ready.is_set():
            await asyncio.sleep(delay)
            if self._connection is None or self._connection.is_closed:
                self._open()
            await asyncio.sleep(min(delay, 1.0))
            delay = min(delay * 2, 5.0)

    def _fail_pending(self, error: Exception) -> None:
        pending, self._pending = self._pending, {}
        self._returned.clear()
        for future, _ in pending.values():
            if not future.done():
                future.set_exception(error)
