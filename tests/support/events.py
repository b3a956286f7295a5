"""A test subscriber bound to the public events exchange, like a pharmacy system would bind."""

from __future__ import annotations

import json
import time
from typing import Any

import pika


class EventSubscriber:
    """Its own exclusive queue bound to ``<prefix>.events`` with a routing pattern."""

    def __init__(self, amqp_url: str, exchange: str, pattern: str = "#") -> None:
        self.connection = pika.BlockingConnection(pika.URLParameters(amqp_url))
        self.channel = self.connection.channel()
        self.channel.exchange_declare(exchange, "topic", durable=True)
        result = self.channel.queue_declare("", exclusive=True)
        self.queue = result.method.queue
        self.channel.queue_bind(self.queue, exchange, pattern)
        self.events: list[dict[str, Any]] = []

    def collect(self, until: Any, timeout_s: float = 20.0) -> list[dict[str, Any]]:
        """Read events until ``until(events)`` is true or the timeout passes."""
        deadline = time.monotonic() + timeout_s
        while not until(self.events) and time.monotonic() < deadline:
            method, _props, body = self.channel.basic_get(self.queue, auto_ack=True)
            if method is None:
                self.connection.sleep(0.05)
                continue
            self.events.append(json.loads(body))
        return self.events

    def drain(self, quiet_s: float = 1.0) -> list[dict[str, Any]]:
        """Read until nothing more arrives for ``quiet_s`` (to prove nothing extra was published)."""
        last = time.monotonic()
        while time.monotonic() - last < quiet_s:
            method, _props, body = self.channel.basic_get(self.queue, auto_ack=True)
            if method is None:
                self.connection.sleep(0.05)
                continue
            self.events.append(json.loads(body))
            last = time.monotonic()
        return self.events

    def of_type(self, name: str) -> list[dict[str, Any]]:
        """The collected events of one type."""
        return [e for e in self.events if e["type"] == name]

    def close(self) -> None:
        """Close the connection (the exclusive queue goes with it)."""
        if self.connection.is_open:
            self.connection.close()
