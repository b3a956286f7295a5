"""The broker topology as data: every exchange, queue and binding the hub uses, in one place.

Publishers, consumers, the CLI and tests all import names from here.  ``declare`` is idempotent, so it
runs at every start-up as well as from ``rxhub topology``.

    adapters ──▶ <prefix>.commands (direct, routing key = command name) ──▶ <prefix>.<step> (quorum)
    a failing message ──▶ <prefix>.<step>.retry (TTL) ──▶ back to <prefix>.<step>
    retries exhausted ──▶ <prefix>.dlx ──▶ <prefix>.dead-letters
    workers ──▶ <prefix>.events (topic, routing key = event name) ──▶ subscribers' own queues
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from hub.messaging.routing import COMMAND_ROUTES

#: the queue payer connectors answer into (the claims' reply-to), consumed by the claim-responses workers
PAYER_RESPONSES = "payer-responses"


def command_routes() -> dict[str, str]:
    """Which step's queue each command goes to, by the name it travels under (``hub.messaging.routing``)."""
    return COMMAND_ROUTES


#: delay queues hold a message for a TTL, then dead-letter it back into the work path; on quorum queues with
#: at-least-once dead-lettering a timer expiring while the broker stops is delivered late, never dropped
AT_LEAST_ONCE_DEAD_LETTERING = {"x-dead-letter-strategy": "at-least-once", "x-overflow": "reject-publish"}


@dataclass(frozen=True)
class Queue:
    """A durable quorum queue (replicated, survives restarts) with its x-arguments."""

    name: str
    quorum: bool = True
    arguments: dict[str, Any] = field(default_factory=dict)

    def declare_arguments(self) -> dict[str, Any]:
        """The x-arguments RabbitMQ needs for this queue."""
        args = dict(self.arguments)
        if self.quorum:
            args["x-queue-type"] = "quorum"
        return args


@dataclass(frozen=True)
class Topology:
    """Names and shapes derived from one prefix; tests pass their own prefix to stay isolated."""

    prefix: str = "rxhub"
    steps: tuple[str, ...] = ("intake", "claim", "fill", "verification", "claim-responses")
    retry_delay_ms: int = 2000

    @property
    def commands_exchange(self) -> str:
        """Direct exchange every command is published to."""
        return f"{self.prefix}.commands"

    @property
    def events_exchange(self) -> str:
        """Public topic exchange subscribers bind to."""
        return f"{self.prefix}.events"

    @property
    def payer_exchange(self) -> str:
        """Topic exchange claims leave by, routed ``<BIN>.<PCN or ->`` to the payer's connector."""
        return f"{self.prefix}.payer"

    @property
    def payer_responses_queue(self) -> str:
        """Where payer connectors put their answers (the claims' reply-to)."""
        return self.work_queue(PAYER_RESPONSES)

    @property
    def claim_resend_queue(self) -> str:
        """Delay queue for resending a claim after a transient payer reject (92, 99...)."""
        return f"{self.prefix}.claim-resend"

    @property
    def dead_letter_exchange(self) -> str:
        """Where messages go once retries are exhausted."""
        return f"{self.prefix}.dlx"

    @property
    def dead_letter_queue(self) -> str:
        """The one queue holding dead letters, with their error in headers."""
        return f"{self.prefix}.dead-letters"

    def work_queue(self, step: str) -> str:
        """The queue one step's workers consume."""
        return f"{self.prefix}.{step}"

    def retry_queue(self, step: str) -> str:
        """Parking queue whose TTL sends a failed message back to its work queue after a delay."""
        return f"{self.prefix}.{step}.retry"

    def route_for(self, command_name: str) -> str:
        """Routing key (the command name) after checking the command has a queue."""
        if command_name not in command_routes():
            raise KeyError(f"no queue routes command {command_name!r}")
        return command_name

    def queues(self) -> list[Queue]:
        """Every queue, in declaration order."""
        result: list[Queue] = []
        # payer answers are consumed (and retried) like a step's commands, but routed by reply-to
        for step in (*self.steps, PAYER_RESPONSES):
            result.append(Queue(self.work_queue(step)))
            result.append(
                Queue(
                    self.retry_queue(step),
                    arguments={
                        **AT_LEAST_ONCE_DEAD_LETTERING,
                        "x-message-ttl": self.retry_delay_ms,
                        "x-dead-letter-exchange": "",
                        "x-dead-letter-routing-key": self.work_queue(step),
                    },
                )
            )
        result.append(
            Queue(
                self.claim_resend_queue,
                arguments={
                    **AT_LEAST_ONCE_DEAD_LETTERING,
                    "x-message-ttl": self.retry_delay_ms,
                    "x-dead-letter-exchange": self.commands_exchange,
                    "x-dead-letter-routing-key": "SendClaim",
                },
            )
        )
        result.append(Queue(self.dead_letter_queue))
        return result

    def bindings(self) -> list[tuple[str, str, str]]:
        """(exchange, queue, routing key) triples."""
        result = [
            (self.commands_exchange, self.work_queue(step), name)
            for name, step in command_routes().items()
            if step in self.steps
        ]
        result.append((self.dead_letter_exchange, self.dead_letter_queue, "#"))
        return result

    def exchanges(self) -> list[tuple[str, str]]:
        """(name, type) pairs."""
        return [
            (self.commands_exchange, "direct"),
            (self.events_exchange, "topic"),
            (self.dead_letter_exchange, "topic"),
            (self.payer_exchange, "topic"),
        ]


class ChannelLike(Protocol):
    """The part of a pika channel ``declare`` needs."""

    def exchange_declare(self, exchange: str, exchange_type: str, durable: bool) -> Any: ...
    def queue_declare(self, queue: str, durable: bool, arguments: dict[str, Any]) -> Any: ...
    def queue_bind(self, queue: str, exchange: str, routing_key: str) -> Any: ...


def declare(channel: ChannelLike, topology: Topology) -> None:
    """Declare everything; safe to run any number of times."""
    for name, kind in topology.exchanges():
        channel.exchange_declare(exchange=name, exchange_type=kind, durable=True)
    for queue in topology.queues():
        channel.queue_declare(queue=queue.name, durable=True, arguments=queue.declare_arguments())
    for exchange, queue_name, key in topology.bindings():
        channel.queue_bind(queue=queue_name, exchange=exchange, routing_key=key)


def delete(channel: Any, topology: Topology) -> None:
    """Remove everything ``declare`` made (the demo and benchmarks clean up after themselves)."""
    for queue in topology.queues():
        channel.queue_delete(queue=queue.name)
    for name, _kind in topology.exchanges():
        channel.exchange_delete(exchange=name)
