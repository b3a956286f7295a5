"""Every destination's sender as threads of the hub process, and the ``rxhub outbound status`` view."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import pika.exceptions as pe

from adapters.hl7.outbound.destination_state import DestinationState, DestinationStatus, status_from_row
from adapters.hl7.outbound.destinations import DestinationConfig
from adapters.hl7.outbound.event_mapping import StoredOrders
from adapters.hl7.outbound.sender import outbound_queue, run_destination
from hub.errors import RxHubError
from hub.messaging.blocking_publisher import connect
from hub.messaging.topology import Topology
from hub.persistence.outbound_state import OutboundStateStore


@dataclass
class OutboundSenders:
    """One daemon thread per destination; ``start`` returns once each is consuming its queue."""

    amqp_url: str
    topology: Topology
    destinations: Sequence[DestinationConfig]
    #: the stored prescriptions the messages are built from (``SqlPrescriptionQueries``)
    records: StoredOrders | None = None
    #: where each sender writes its state for ``rxhub outbound status``, /metrics and the dashboard
    store: OutboundStateStore | None = None
    stop_event: threading.Event = field(default_factory=threading.Event)
    states: dict[str, DestinationState] = field(default_factory=dict)
    threads: list[threading.Thread] = field(default_factory=list)

    def start(self, timeout_s: float = 20.0) -> None:
        """Start a sender per destination and wait until all are consuming."""
        for config in self.destinations:
            state = self.states.setdefault(config.name, DestinationState(config.name, self.store, config.stuck_after_s))
            thread = threading.Thread(
                target=run_destination,
                args=(self.amqp_url, self.topology, config, self.stop_event, state, self.store),
                kwargs={"records": self.records},
                name=f"outbound-{config.name}",
                daemon=True,
            )
            thread.start()
            self.threads.append(thread)
        deadline = time.monotonic() + timeout_s
        if not all(s.ready.wait(max(deadline - time.monotonic(), 0)) for s in self.states.values()):
            raise RuntimeError("outbound senders did not connect to RabbitMQ in time")

    def stop(self, timeout_s: float = 10.0) -> None:
        """Stop every sender; a message still awaiting its ACK stays queued and is resent on the next start."""
        self.stop_event.set()
        for thread in self.threads:
            thread.join(timeout_s)

    def status(self) -> list[DestinationStatus]:
        """Each destination's live state with its backlog from the broker."""
        return outbound_status(self.amqp_url, self.topology, self.destinations, self.states)


def outbound_status(
    amqp_url: str,
    topology: Topology,
    destinations: Sequence[DestinationConfig],
    states: dict[str, DestinationState] | None = None,
    store: OutboundStateStore | None = None,
) -> list[DestinationStatus]:
    """For ``rxhub outbound status``: state, backlog depth and age, message in flight, last error.

    ``states`` are live senders of this process; otherwise ``store`` has what the senders wrote, wherever
    they run; with neither only the broker's view is known (state ``unknown``).
    """
    counts = _queue_counts(amqp_url, [outbound_queue(topology, d.name) for d in destinations])
    rows = store.load([d.name for d in destinations]) if store is not None else {}
    result = []
    for config in destinations:
        ready, consumers = counts.get(outbound_queue(topology, config.name), (None, None))
        state = (states or {}).get(config.name)
        if state is not None:
            result.append(state.snapshot(ready, consumers))
        else:
            result.append(status_from_row(rows.get(config.name), config.name, ready, consumers, config.stuck_after_s))
    return result


def _queue_counts(amqp_url: str, queues: list[str]) -> dict[str, tuple[int | None, int | None]]:
    """(ready messages, consumers) per queue; a queue not declared yet counts as empty."""
    try:
        connection = connect(amqp_url)
    except RxHubError:
        return {}
    counts: dict[str, tuple[int | None, int | None]] = {}
    try:
        for queue in queues:
            channel = connection.channel()
            try:
                ok = channel.queue_declare(queue, passive=True).method
                counts[queue] = (int(ok.message_count), int(ok.consumer_count))
                channel.close()
            except pe.ChannelClosedByBroker:  # 404: never declared, so nothing is waiting
                counts[queue] = (0, 0)
    finally:
        if connection.is_open:
            connection.close()
    return counts
