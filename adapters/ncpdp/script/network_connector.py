"""The prescriber connector: outbound SCRIPT from ``<prefix>.script-out`` POSTed to the SCRIPT network.

Each message goes to the endpoint serving its recipient (``x-rxhub-script-to``) and is settled by the
network's answer (``network_answers``): Status 000/010 or Verify delivered, Error and HTTP 4xx dead-lettered
with their code and description, Error 600, HTTP 5xx and no connection retried with growing pauses up to the
endpoint's ``max_attempts``. One message in flight, acked only once settled (``hub.messaging.held_delivery``):
nothing is lost, and a message the broker redelivers is sent again under the same MessageID, on which
networks dedupe. A recipient no endpoint serves is dead-lettered.
"""

from __future__ import annotations

import threading

from pika.spec import BasicProperties

from adapters.ncpdp.script.network_client import NetworkClient
from adapters.ncpdp.script.network_config import ScriptEndpoint, endpoint_for
from adapters.ncpdp.script.outbound_topology import ScriptOutTopology
from hub.messaging.headers import SCRIPT_TO_HEADER
from hub.messaging.held_delivery import Attempt, DeliveryState, HeldDelivery, Target
from hub.messaging.topology import Topology

#: metric labels and dead letters name an endpoint ``script:<name>``
KIND = "script"


class EndpointTarget:
    """One network endpoint as a delivery target."""

    def __init__(self, endpoint: ScriptEndpoint) -> None:
        self.name = endpoint.name
        self.max_attempts = endpoint.max_attempts
        self.backoff_initial_s = endpoint.backoff_initial_s
        self.backoff_max_s = endpoint.backoff_max_s
        self.client = NetworkClient(endpoint)

    def send(self, body: bytes, props: BasicProperties) -> Attempt:
        """POST once and judge the network's answer."""
        return self.client.post(body, props.message_id or "").attempt()


class ScriptConnector:
    """Delivers script-out to the configured endpoints until stopped."""

    def __init__(
        self,
        amqp_url: str,
        topology: Topology,
        endpoints: tuple[ScriptEndpoint, ...],
        state: DeliveryState | None = None,
    ) -> None:
        self.endpoints = endpoints
        self._targets = {e.name: EndpointTarget(e) for e in endpoints}
        script = ScriptOutTopology.of(topology)
        self.delivery = HeldDelivery(
            amqp_url, script, script.script_out_queue, self._route, kind=KIND, targets=tuple(self._targets), state=state
        )
        self.state = self.delivery.state

    def run(self, stop: threading.Event) -> None:
        """Deliver until ``stop`` is set."""
        try:
            self.delivery.run(stop)
        finally:
            for target in self._targets.values():
                target.client.close()

    def _route(self, props: BasicProperties, _body: bytes) -> Target | str:
        recipient = str((props.headers or {}).get(SCRIPT_TO_HEADER, ""))
        endpoint = endpoint_for(self.endpoints, recipient)
        if endpoint is None:
            return f"no SCRIPT network endpoint serves {recipient!r}"
        return self._targets[endpoint.name]


def run_script_connector(
    amqp_url: str,
    topology: Topology,
    endpoints: tuple[ScriptEndpoint, ...],
    stop: threading.Event,
    state: DeliveryState | None = None,
) -> None:
    """Run the connector in the calling thread until ``stop`` is set."""
    ScriptConnector(amqp_url, topology, endpoints, state).run(stop)
