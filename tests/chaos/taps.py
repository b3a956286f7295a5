"""Durable audit queues bound before the hub starts: every event and every claim the hub published.

They are drained only at the end, so no fault can cut the tap mid-read: a copy the broker stored is a
copy the auditor counts.  A subscriber dedupes on the CloudEvents id; the auditor counts both raw copies
and distinct ids to show that deduplication is possible and needed only for same-id copies.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from hub.messaging.blocking_publisher import connect
from hub.messaging.topology import Topology

EVENTS_TAP = "chaos-audit-events"
CLAIMS_TAP = "chaos-audit-claims"


def tap_names(topology: Topology) -> tuple[str, str]:
    """The two audit queue names for a prefix."""
    return f"{topology.prefix}.{EVENTS_TAP}", f"{topology.prefix}.{CLAIMS_TAP}"


def bind_taps(amqp_url: str, topology: Topology) -> None:
    """Declare the exchanges and bind one durable queue to all events and one to all claims."""
    events_tap, claims_tap = tap_names(topology)
    conn = connect(amqp_url, attempts=20, delay_s=1.0)
    try:
        channel = conn.channel()
        for exchange, tap in ((topology.events_exchange, events_tap), (topology.payer_exchange, claims_tap)):
            channel.exchange_declare(exchange, "topic", durable=True)
            channel.queue_declare(tap, durable=True, arguments={"x-queue-type": "quorum"})
            channel.queue_bind(tap, exchange, "#")
    finally:
        conn.close()


@dataclass
class Copies:
    """Everything read from one tap: each copy's id, and the parsed bodies of first copies."""

    ids: list[str] = field(default_factory=list)
    bodies: dict[str, Any] = field(default_factory=dict)

    @property
    def raw(self) -> int:
        """Copies delivered."""
        return len(self.ids)

    @property
    def distinct(self) -> int:
        """Distinct message ids."""
        return len(set(self.ids))


def drain(amqp_url: str, queue: str, *, parse_json: bool) -> Copies:
    """Read a tap to the end (acking as it goes)."""
    copies = Copies()
    conn = connect(amqp_url, attempts=20, delay_s=1.0)
    try:
        channel = conn.channel()
        while True:
            method, props, body = channel.basic_get(queue, auto_ack=True)
            if method is None:
                return copies
            if parse_json:
                event = json.loads(body)
                copies.ids.append(event["id"])
                copies.bodies.setdefault(event["id"], event)
            else:
                copies.ids.append(str(props.message_id))
                copies.bodies.setdefault(str(props.message_id), props.correlation_id)
    finally:
        conn.close()
