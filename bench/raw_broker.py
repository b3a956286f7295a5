"""The raw-broker baseline: confirmed persistent publishes of a real command's size, straight through pika.

It runs in the same run as the ingest scenarios, against the same RabbitMQ and the same queue type
(quorum, like ``<prefix>.intake``), so "hub msg/s / raw msg/s" says how much of the broker's ceiling the
hub's ACK path uses.  Deliberately not the hub's own publisher, so that publisher's cost shows up in
the ratio rather than in the baseline.
"""

from __future__ import annotations

import asyncio
import time

import pika
from pika.adapters.asyncio_connection import AsyncioConnection
from pika.channel import Channel

from bench.latency import Summary, summarize


class RawPublisher:
    """Minimal pipelined confirming publisher: one future per message, resolved by the broker's ack."""

    def __init__(self) -> None:
        self.channel: Channel | None = None
        self.connection: AsyncioConnection | None = None
        self.pending: dict[int, asyncio.Future[None]] = {}
        self.tag = 0
        self.ready: asyncio.Future[None] | None = None

    async def open(self, amqp_url: str) -> None:
        """Connect and open a channel in confirm mode."""
        loop = asyncio.get_running_loop()
        self.ready = loop.create_future()
        self.connection = AsyncioConnection(
            pika.URLParameters(amqp_url),
            on_open_callback=lambda c: c.channel(on_open_callback=self._channel_open),
            on_open_error_callback=lambda _c, e: self._fail(e),
            custom_ioloop=loop,
        )
        await asyncio.wait_for(self.ready, 10)

    def close(self) -> None:
        """Close the connection."""
        if self.connection is not None and self.connection.is_open:
            self.connection.close()

    def publish(self, queue: str, body: bytes, properties: pika.BasicProperties) -> asyncio.Future[None]:
        """Publish one message; the future resolves on its confirm."""
        assert self.channel is not None
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.tag += 1
        self.pending[self.tag] = future
        self.channel.basic_publish("", queue, body, properties, mandatory=True)
        return future

    def _channel_open(self, channel: Channel) -> None:
        self.channel = channel
        channel.confirm_delivery(ack_nack_callback=self._confirmed, callback=self._confirm_mode)

    def _confirm_mode(self, _frame: object) -> None:
        assert self.ready is not None
        self.ready.set_result(None)

    def _fail(self, error: BaseException) -> None:
        if self.ready is not None and not self.ready.done():
            self.ready.set_exception(ConnectionError(str(error)))

    def _confirmed(self, frame: pika.frame.Method) -> None:
        method = frame.method
        futures: list[asyncio.Future[None]] = []
        if method.multiple:  # tags are issued in order, so the oldest pending ones are the confirmed ones
            while self.pending and (tag := next(iter(self.pending))) <= method.delivery_tag:
                futures.append(self.pending.pop(tag))
        elif (single := self.pending.pop(method.delivery_tag, None)) is not None:
            futures.append(single)
        nacked = isinstance(method, pika.spec.Basic.Nack)
        for future in futures:
            if future.done():
                continue
            if nacked:
                future.set_exception(RuntimeError("broker nacked a baseline message"))
            else:
                future.set_result(None)


async def _publish_for(
    amqp_url: str, queue: str, body: bytes, properties: pika.BasicProperties, concurrency: int, seconds: float
) -> tuple[list[float], float]:
    publisher = RawPublisher()
    await publisher.open(amqp_url)
    latencies: list[float] = []
    start = time.monotonic()
    deadline = start + seconds

    async def lane() -> None:
        while time.monotonic() < deadline:
            sent = time.monotonic()
            await publisher.publish(queue, body, properties)
            latencies.append(time.monotonic() - sent)

    try:
        await asyncio.gather(*(lane() for _ in range(concurrency)))
    finally:
        publisher.close()
    return latencies, time.monotonic() - start


def raw_baseline(
    amqp_url: str, queue: str, body: bytes, properties: pika.BasicProperties, concurrency: int, seconds: float
) -> Summary:
    """``concurrency`` lanes, each publishing and awaiting its confirm, into a fresh quorum queue."""
    _declare(amqp_url, queue)
    try:
        latencies, elapsed = asyncio.run(_publish_for(amqp_url, queue, body, properties, concurrency, seconds))
    finally:
        _delete(amqp_url, queue)
    return summarize(latencies, elapsed)


def _declare(amqp_url: str, queue: str) -> None:
    connection = pika.BlockingConnection(pika.URLParameters(amqp_url))
    try:
        connection.channel().queue_declare(queue, durable=True, arguments={"x-queue-type": "quorum"})
    finally:
        connection.close()


def _delete(amqp_url: str, queue: str) -> None:
    connection = pika.BlockingConnection(pika.URLParameters(amqp_url))
    try:
        connection.channel().queue_delete(queue)
    finally:
        connection.close()
