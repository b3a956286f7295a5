"""Dead letters: inspect, replay and purge what the workers gave up on.

Listing browses the queue without removing anything (messages are fetched unacked and returned when the
channel closes). Replay republishes a dead letter to the queue it failed on with its original message id,
so a replayed command that had in fact been applied is skipped by the worker's idempotency record; the dead
letter is acked only after the broker confirmed the replay. A replay keeps the body and the headers it came
with, its signature among them, and never signs anything: a command refused as unauthenticated is refused
again (hub.security.command_signing).
"""

from __future__ import annotations

import builtins
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pika
import pika.exceptions as pe
from pika.adapters.blocking_connection import BlockingChannel
from pika.spec import Basic, BasicProperties

from hub.errors import PublishNotConfirmed
from hub.messaging.blocking_publisher import connect
from hub.messaging.headers import (
    ERROR_HEADER,
    FAILURE_KIND_HEADER,
    FIRST_FAILURE_HEADER,
    LAST_FAILURE_HEADER,
    QUEUE_HEADER,
    REPLAYS_HEADER,
    RETRIES_HEADER,
    TRACEBACK_HEADER,
)
from hub.messaging.topology import Topology

FAILURE_HEADERS = (
    ERROR_HEADER,
    FAILURE_KIND_HEADER,
    FIRST_FAILURE_HEADER,
    LAST_FAILURE_HEADER,
    RETRIES_HEADER,
    QUEUE_HEADER,
    TRACEBACK_HEADER,
)


@dataclass(frozen=True)
class DeadLetter:
    """What an operator needs to decide on a dead letter (no message body, so no patient details)."""

    message_id: str
    message_type: str
    queue: str
    failure_kind: str
    error: str
    first_failure: str
    last_failure: str
    retries: int
    correlation_id: str
    replays: int

    @classmethod
    def of(cls, props: BasicProperties) -> DeadLetter:
        """Read the failure headers the consumer runner wrote."""
        h: dict[str, Any] = dict(props.headers or {})
        return cls(
            message_id=props.message_id or "",
            message_type=props.type or "",
            queue=str(h.get(QUEUE_HEADER, "")),
            failure_kind=str(h.get(FAILURE_KIND_HEADER, "")),
            error=str(h.get(ERROR_HEADER, "")),
            first_failure=str(h.get(FIRST_FAILURE_HEADER, "")),
            last_failure=str(h.get(LAST_FAILURE_HEADER, "")),
            retries=int(h.get(RETRIES_HEADER, 0) or 0),
            correlation_id=props.correlation_id or "",
            replays=int(h.get(REPLAYS_HEADER, 0) or 0),
        )

    def matches(self, **wanted: str | None) -> bool:
        """True when every given filter (exact match on a field) holds."""
        return all(value is None or str(getattr(self, key)) == value for key, value in wanted.items())


class DeadLetterQueue:
    """Operations on ``<prefix>.dead-letters``."""

    def __init__(self, amqp_url: str, topology: Topology) -> None:
        self.amqp_url = amqp_url
        self.topology = topology

    def list(self, limit: int = 1000) -> list[DeadLetter]:
        """Browse without removing."""
        connection = connect(self.amqp_url)
        try:
            channel = connection.channel()
            return [DeadLetter.of(props) for _m, props, _b in self._fetch(channel, limit)]
        finally:
            connection.close()  # unacked messages go back to the queue

    def replay(
        self, *, limit: int = 1000, on_replay: Callable[[DeadLetter], None] | None = None, **filters: str | None
    ) -> builtins.list[DeadLetter]:
        """Replay the dead letters matching the filters (all when none given) through the normal path."""
        connection = connect(self.amqp_url)
        replayed: builtins.list[DeadLetter] = []
        try:
            channel = connection.channel()
            side = connection.channel()
            side.confirm_delivery()
            # only the letters there when the replay began: one refused again at once (a forged command)
            # comes back behind them, and would otherwise be replayed again until ``limit``
            waiting = channel.queue_declare(self.topology.dead_letter_queue, passive=True).method.message_count
            for method, props, body in self._fetch(channel, min(limit, int(waiting))):
                letter = DeadLetter.of(props)
                if not letter.matches(**filters):
                    continue
                self._republish(side, props, body, letter)
                channel.basic_ack(method.delivery_tag)
                replayed.append(letter)
                if on_replay:
                    on_replay(letter)
        finally:
            connection.close()
        return replayed

    def purge(self) -> int:
        """Drop every dead letter; returns how many."""
        connection = connect(self.amqp_url)
        try:
            return int(connection.channel().queue_purge(self.topology.dead_letter_queue).method.message_count)
        finally:
            connection.close()

    def depth(self) -> int:
        """How many dead letters wait."""
        connection = connect(self.amqp_url)
        try:
            declared = connection.channel().queue_declare(self.topology.dead_letter_queue, passive=True)
            return int(declared.method.message_count)
        finally:
            connection.close()

    def _fetch(self, channel: BlockingChannel, limit: int) -> Iterator[tuple[Basic.GetOk, BasicProperties, bytes]]:
        for _ in range(limit):
            method, props, body = channel.basic_get(self.topology.dead_letter_queue, auto_ack=False)
            if method is None:
                return
            yield method, props, body

    def _republish(self, side: BlockingChannel, props: BasicProperties, body: bytes, letter: DeadLetter) -> None:
        headers = {k: v for k, v in dict(props.headers or {}).items() if k not in FAILURE_HEADERS}
        headers[REPLAYS_HEADER] = letter.replays + 1
        copy = pika.BasicProperties(
            content_type=props.content_type,
            delivery_mode=2,
            message_id=props.message_id,
            correlation_id=props.correlation_id,
            type=props.type,
            timestamp=props.timestamp,
            app_id=props.app_id,
            headers=headers,
            reply_to=props.reply_to,
        )
        queue = letter.queue or self.topology.work_queue("intake")
        try:
            side.basic_publish("", queue, body, copy, mandatory=True)
        except (pe.UnroutableError, pe.NackError) as exc:
            raise PublishNotConfirmed(f"replay to {queue} refused") from exc
