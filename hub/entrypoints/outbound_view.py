"""Outbound HL7 destinations as operators see them: ``rxhub outbound status``, /metrics gauges, the dashboard.

Each view reads what the senders wrote to the database (whichever process runs them) and the broker's
queue depths, so all three agree with each other and with the sender.
"""

from __future__ import annotations

import logging
from typing import Any

from prometheus_client import CollectorRegistry, Gauge
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from adapters.hl7.outbound.destination_state import DestinationStatus, SenderState
from hub.config import Settings
from hub.entrypoints.connector_view import connector_statuses
from hub.entrypoints.runtime import open_database, topology_for
from hub.errors import RxHubError
from hub.persistence.outbound_state import OutboundStateStore

log = logging.getLogger(__name__)


def destination_statuses(settings: Settings, engine: Engine | None) -> list[DestinationStatus]:
    """Every configured destination's status; empty when none is configured."""
    if settings.outbound_destinations is None:
        return []
    # lazy: the HL7 senders load only where destinations are configured
    from adapters.hl7.outbound.destinations import load_destinations
    from adapters.hl7.outbound.senders import outbound_status

    destinations = load_destinations(settings.outbound_destinations)
    store = OutboundStateStore(engine) if engine is not None else None
    return outbound_status(settings.amqp_url.get_secret_value(), topology_for(settings), destinations, store=store)


def describe(status: DestinationStatus) -> str:
    """One line per destination: state, link, backlog (in flight included), oldest age, retries, last error."""
    age = f"{status.oldest_age_s:.0f}s" if status.oldest_age_s is not None else "-"
    backlog = "broker unreachable" if status.backlog is None else str(status.backlog)
    link = "connected" if status.connected else "disconnected"
    return (
        f"{status.name:20} {status.state.value:11} {link:12} backlog={backlog:6} oldest={age:6} "
        f"in flight={status.in_flight_control_id or '-'} attempts={status.attempts} "
        f"delivered={status.delivered} retried={status.retried} dead-lettered={status.dead_lettered} "
        f"superseded={status.superseded} last error={status.last_error or '-'}"
    )


def print_outbound_status(settings: Settings) -> int:
    """``rxhub outbound status``."""
    for connector in connector_statuses(settings, topology_for(settings)):  # SCRIPT network, FHIR renewals
        print(connector.describe())
    if settings.outbound_destinations is None:
        print("no outbound destinations configured (RXHUB_OUTBOUND_DESTINATIONS)")
        return 0
    engine: Engine | None
    try:
        engine = open_database(settings)
    except (SQLAlchemyError, RxHubError) as exc:
        print(f"database unreachable ({type(exc).__name__}): the senders' state is unknown")
        engine = None
    for status in destination_statuses(settings, engine):
        print(describe(status))
    return 0


def as_dict(status: DestinationStatus) -> dict[str, Any]:
    """The dashboard's row of one destination."""
    return status.model_dump(mode="json")


def outbound_gauges(live: CollectorRegistry, statuses: list[DestinationStatus]) -> None:
    """Per destination: backlog, oldest waiting age, connected, retrying and stuck (0/1)."""
    backlog = Gauge(
        "rxhub_outbound_backlog",
        "Outbound messages waiting per destination, the one in flight included",
        ["destination"],
        registry=live,
    )
    age = Gauge(
        "rxhub_outbound_oldest_age_seconds",
        "Age of the oldest outbound message not yet settled (the one in flight; 0 when none)",
        ["destination"],
        registry=live,
    )
    connected = Gauge(
        "rxhub_outbound_connected",
        "1 when the sender holds a connection to the destination",
        ["destination"],
        registry=live,
    )
    retrying = Gauge(
        "rxhub_outbound_retrying", "1 while the message in flight is being resent", ["destination"], registry=live
    )
    stuck = Gauge(
        "rxhub_outbound_stuck",
        "1 when the message in flight has failed for the destination's stuck_after_s or longer, or no sender reports",
        ["destination"],
        registry=live,
    )
    for status in statuses:
        if status.backlog is not None:
            backlog.labels(status.name).set(status.backlog)
        age.labels(status.name).set(status.oldest_age_s or 0.0)
        connected.labels(status.name).set(1 if status.connected else 0)
        retrying.labels(status.name).set(1 if status.state is SenderState.RETRYING else 0)
        stuck.labels(status.name).set(1 if status.state in (SenderState.STUCK, SenderState.UNKNOWN) else 0)
