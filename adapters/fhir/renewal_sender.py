"""Renewal requests for FHIR-origin orders, POSTed to the ordering EHR's FHIR server as Tasks.

Queue ``<prefix>.fhir-renewals`` takes ``renewal.requested``; for an order that came through the FHIR door
the Task of ``renewal_requests`` goes to the endpoint serving its placer system (``RXHUB_FHIR_RENEWALS``), as
a conditional create on the Task's identifier, so a resend never makes a second Task. Other doors' orders are
acked untouched (each origin asks in its own standard). The EHR's answer settles it
(``hub.messaging.held_delivery``): 2xx delivered; 4xx refused, dead-lettered with the OperationOutcome's
diagnostics; 5xx, 408, 429 and no connection retried with growing pauses, then dead-lettered.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any, Protocol

import httpx
from pika.spec import BasicProperties
from pydantic import ValidationError

from adapters.fhir.renewal_requests import RENEWAL_SYSTEM, RequestingPharmacy, renewal_task
from hub.domain.events import RenewalRequested
from hub.domain.order_parts import Source
from hub.domain.prescription import Prescription
from hub.errors import RxHubError
from hub.messaging.envelope import utcnow
from hub.messaging.held_delivery import Attempt, DeliveryState, HeldDelivery, Outcome, Target
from hub.messaging.https_endpoints import HttpsEndpoint, load_endpoints
from hub.messaging.topology import Queue, Topology

KIND = "fhir"
FHIR_JSON = "application/fhir+json"
_RETRY_HTTP = frozenset({408, 425, 429})


class FhirRenewalEndpoint(HttpsEndpoint):
    """An EHR's FHIR base URL (Tasks are POSTed to ``<url>/Task``) and the placer systems whose orders it holds."""

    #: placer systems (the order identifier's system) served here; empty: every FHIR order
    placer_systems: tuple[str, ...] = ()


def load_fhir_renewals(path: Any) -> tuple[FhirRenewalEndpoint, ...]:
    """Read and check the endpoints file (``EndpointConfigError`` naming any problem)."""
    return load_endpoints(path, FhirRenewalEndpoint)


@dataclass(frozen=True)
class FhirRenewalTopology(Topology):
    """The hub topology plus the renewal sender's queue, bound to renewal.requested."""

    @classmethod
    def of(cls, topology: Topology) -> FhirRenewalTopology:
        """The same names and settings as ``topology``, with the renewal queue added."""
        return cls(**{f.name: getattr(topology, f.name) for f in fields(topology)})

    @property
    def renewal_queue(self) -> str:
        """Renewal requests waiting for the FHIR sender."""
        return f"{self.prefix}.fhir-renewals"

    def queues(self) -> list[Queue]:
        """The hub's queues and the renewal queue (quorum)."""
        return [*super().queues(), Queue(self.renewal_queue)]

    def bindings(self) -> list[tuple[str, str, str]]:
        """The hub's bindings and renewal.requested into the renewal queue."""
        return [*super().bindings(), (self.events_exchange, self.renewal_queue, RenewalRequested.name)]


class StoredOrders(Protocol):
    """Where the sender reads the order (``hub.persistence.queries.SqlPrescriptionQueries``)."""

    def prescription(self, prescription_id: str) -> Prescription | None:
        """The prescription aggregate, or None when it is not stored."""


class TaskTarget:
    """One EHR FHIR server as a delivery target."""

    def __init__(
        self,
        endpoint: FhirRenewalEndpoint,
        records: StoredOrders,
        pharmacy: RequestingPharmacy,
        clock: Callable[[], datetime],
    ) -> None:
        self.endpoint, self.records, self.pharmacy, self.clock = endpoint, records, pharmacy, clock
        self.name = endpoint.name
        self.max_attempts = endpoint.max_attempts
        self.backoff_initial_s = endpoint.backoff_initial_s
        self.backoff_max_s = endpoint.backoff_max_s
        self.client = endpoint.client()

    def send(self, body: bytes, props: BasicProperties) -> Attempt:
        """Build the Task from the stored order and POST it once."""
        event_id, event = _decode(body)
        try:
            rx = self.records.prescription(event.prescription_id)
        except RxHubError as exc:  # the database is away: try again
            return Attempt(Outcome.RETRY, f"order not readable: {exc}")
        if rx is None:
            return Attempt(Outcome.REFUSED, f"prescription {event.prescription_id} is not on record")
        task = renewal_task(event, rx, event_id, pharmacy=self.pharmacy, at=self.clock())
        return self._post(task, event_id)

    def _post(self, task: dict[str, Any], event_id: str) -> Attempt:
        headers = {
            "Content-Type": FHIR_JSON,
            "Accept": FHIR_JSON,
            "If-None-Exist": f"identifier={RENEWAL_SYSTEM}|{event_id}",
        }
        authorization = self.endpoint.authorization()
        if authorization is not None:
            headers["Authorization"] = authorization
        try:
            response = self.client.post(f"{self.endpoint.url.rstrip('/')}/Task", json=task, headers=headers)
        except httpx.HTTPError as exc:
            return Attempt(Outcome.RETRY, f"no answer: {type(exc).__name__}: {exc}"[:300])
        status = response.status_code
        if 200 <= status < 300:
            return Attempt(Outcome.DELIVERED, f"HTTP {status} {response.headers.get('Location', '')}".strip())
        outcome = Outcome.RETRY if status >= 500 or status in _RETRY_HTTP else Outcome.REFUSED
        return Attempt(outcome, f"HTTP {status} {_diagnostics(response)}".strip())


class _NotFhir:
    """The target of another door's order: acked untouched."""

    def __init__(self, name: str) -> None:
        self.name, self.max_attempts, self.backoff_initial_s, self.backoff_max_s = name, 1, 1.0, 1.0

    def send(self, _body: bytes, _props: BasicProperties) -> Attempt:
        return Attempt(Outcome.SKIP, "not a FHIR order")


class FhirRenewalSender:
    """Delivers renewal Tasks for FHIR orders until stopped."""

    def __init__(
        self,
        amqp_url: str,
        topology: Topology,
        endpoints: tuple[FhirRenewalEndpoint, ...],
        records: StoredOrders,
        *,
        pharmacy: RequestingPharmacy,
        state: DeliveryState | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.endpoints = endpoints
        self._targets = {e.name: TaskTarget(e, records, pharmacy, clock) for e in endpoints}
        self._skip = _NotFhir(endpoints[0].name)
        renewals = FhirRenewalTopology.of(topology)
        self.delivery = HeldDelivery(
            amqp_url,
            renewals,
            renewals.renewal_queue,
            self._route,
            kind=KIND,
            targets=tuple(self._targets),
            state=state,
        )
        self.state = self.delivery.state

    def run(self, stop: threading.Event) -> None:
        """Deliver until ``stop`` is set."""
        try:
            self.delivery.run(stop)
        finally:
            for target in self._targets.values():
                target.client.close()

    def _route(self, _props: BasicProperties, body: bytes) -> Target | str:
        try:
            _, event = _decode(body)
        except ValueError as exc:
            return f"unreadable renewal.requested event: {exc}"
        if event.source != Source.FHIR.value:
            return self._skip
        found = next(
            (e for e in self.endpoints if not e.placer_systems or event.placer_system in e.placer_systems), None
        )
        if found is None:
            return f"no FHIR renewal endpoint serves placer system {event.placer_system!r}"
        return self._targets[found.name]


def _decode(body: bytes) -> tuple[str, RenewalRequested]:
    """The CloudEvent's id and its renewal.requested data (ValueError when it is neither)."""
    try:
        raw = json.loads(body)
        return str(raw["id"]), RenewalRequested.model_validate(raw["data"])
    except (KeyError, TypeError, ValidationError) as exc:
        raise ValueError(str(exc)[:300]) from exc


def _diagnostics(response: httpx.Response) -> str:
    """What an OperationOutcome says (its issues' diagnostics or text), else the start of the body."""
    try:
        outcome = response.json()
        issues = outcome.get("issue", []) if isinstance(outcome, dict) else []
        said = [i.get("diagnostics") or (i.get("details") or {}).get("text") or "" for i in issues]
        return "; ".join(s for s in said if s)[:500] or response.text[:200]
    except ValueError:
        return response.text[:200]


def run_fhir_renewals(
    amqp_url: str,
    topology: Topology,
    endpoints: tuple[FhirRenewalEndpoint, ...],
    records: StoredOrders,
    stop: threading.Event,
    *,
    pharmacy: RequestingPharmacy,
    state: DeliveryState | None = None,
) -> None:
    """Run the sender in the calling thread until ``stop`` is set."""
    FhirRenewalSender(amqp_url, topology, endpoints, records, pharmacy=pharmacy, state=state).run(stop)
