"""The HTTPS connectors (SCRIPT network, FHIR renewals) as ``rxhub outbound status`` shows them.

Read from the broker, whichever process runs them: messages waiting (the one in flight included), whether
anything consumes the queue, and the dead letters that came from it.
"""

from __future__ import annotations

from dataclasses import dataclass

import pika.exceptions as pe

from hub.config import Settings
from hub.errors import BrokerUnavailable
from hub.messaging.blocking_publisher import connect
from hub.messaging.dead_letters import DeadLetter, DeadLetterQueue
from hub.messaging.topology import Topology


@dataclass(frozen=True)
class ConnectorStatus:
    """One connector's queue as the broker sees it (None: the broker could not say)."""

    kind: str
    queue: str
    endpoints: tuple[str, ...]
    backlog: int | None
    consumers: int | None
    dead_letters: int | None

    def describe(self) -> str:
        """One line: running or not, backlog, dead letters, endpoints."""
        running = "unknown" if self.consumers is None else "running" if self.consumers else "NOT RUNNING"
        backlog = "-" if self.backlog is None else str(self.backlog)
        dead = "-" if self.dead_letters is None else str(self.dead_letters)
        return (
            f"{self.kind + ' connector':20} {running:11} backlog={backlog:6} dead-lettered={dead} "
            f"endpoints={','.join(self.endpoints)}"
        )


def connector_statuses(settings: Settings, topology: Topology) -> list[ConnectorStatus]:
    """Every configured connector's status; empty when none is configured."""
    configured: list[tuple[str, str, tuple[str, ...]]] = []
    if settings.script_network is not None:
        # lazy: the adapters load only when their settings are given
        from adapters.ncpdp.script.network_config import load_script_network

        names = tuple(e.name for e in load_script_network(settings.script_network))
        configured.append(("script", f"{topology.prefix}.script-out", names))
    if settings.fhir_renewals is not None:
        # lazy: the adapters load only when their settings are given
        from adapters.fhir.renewal_sender import load_fhir_renewals

        names = tuple(e.name for e in load_fhir_renewals(settings.fhir_renewals))
        configured.append(("fhir", f"{topology.prefix}.fhir-renewals", names))
    if not configured:
        return []
    url = settings.amqp_url.get_secret_value()
    try:
        letters = DeadLetterQueue(url, topology).list()
    except (BrokerUnavailable, pe.AMQPError):
        letters = None
    return [_status(url, kind, queue, names, letters) for kind, queue, names in configured]


def _status(
    url: str, kind: str, queue: str, names: tuple[str, ...], letters: list[DeadLetter] | None
) -> ConnectorStatus:
    dead = None if letters is None else sum(1 for letter in letters if letter.queue == queue)
    try:
        connection = connect(url)
    except BrokerUnavailable:
        return ConnectorStatus(kind, queue, names, None, None, dead)
    try:
        declared = connection.channel().queue_declare(queue, passive=True).method
        return ConnectorStatus(kind, queue, names, declared.message_count, declared.consumer_count, dead)
    except pe.ChannelClosedByBroker:  # not declared yet: nothing was ever queued for it
        return ConnectorStatus(kind, queue, names, 0, 0, dead)
    finally:
        if connection.is_open:
            connection.close()
