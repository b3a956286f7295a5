"""``GET /metrics``: Prometheus text, with gauges read at scrape time (queue depths, backlog, states)."""

from __future__ import annotations

import asyncio
import time

from fastapi import APIRouter
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Gauge

from hub.config import Settings
from hub.entrypoints.http.admin_routes import db_figures, outbound_destinations, queue_figures
from hub.entrypoints.http.dependencies import Services
from hub.entrypoints.outbound_view import outbound_gauges
from hub.observability.metrics import exposition

router = APIRouter(tags=["operations"])
#: wall-clock time of the last successful read of the queues (0: never), for rxhub_queue_depth_read_timestamp_seconds
_queues_read_at = 0.0


@router.get("/metrics")
async def metrics(services: Services) -> Response:
    """Counters and histograms of this process and its workers plus live gauges; labels never carry patient
    data."""
    live = CollectorRegistry()
    figures = await asyncio.to_thread(db_figures, services.engine)
    Gauge("rxhub_outbox_backlog", "Outbox rows not yet published", registry=live).set(figures["outbox_backlog"])
    states = Gauge("rxhub_prescriptions", "Prescriptions by current state", ["state"], registry=live)
    for state, n in figures["prescriptions"].items():
        states.labels(state).set(n)
    claims = Gauge("rxhub_claim_transmissions", "Claim transmissions by payer status", ["status"], registry=live)
    for status, n in figures["claims"].items():
        claims.labels(status).set(n)
    _queue_gauges(live, await _read_queues(services.settings))
    outbound_gauges(live, await outbound_destinations(services.settings, services.engine))
    return Response(exposition(live), media_type=CONTENT_TYPE_LATEST)


async def _read_queues(settings: Settings) -> dict[str, tuple[int, int]]:
    """Depth and consumers per queue; empty when the broker cannot be asked (the read time then stays old)."""
    try:
        figures = await asyncio.to_thread(queue_figures, settings)
    except Exception:
        return {}
    global _queues_read_at
    _queues_read_at = time.time()
    return figures


def _queue_gauges(live: CollectorRegistry, figures: dict[str, tuple[int, int]]) -> None:
    depth = Gauge("rxhub_queue_depth", "Messages waiting per queue", ["queue"], registry=live)
    consumers = Gauge(
        "rxhub_queue_consumers", "Consumers per queue, as the broker counts them", ["queue"], registry=live
    )
    for name, (waiting, taking) in figures.items():
        depth.labels(name).set(waiting)
        consumers.labels(name).set(taking)
    # the depths above are absent, not zero, when the broker did not answer: this says since when
    Gauge(
        "rxhub_queue_depth_read_timestamp_seconds",
        "When queue depths were last read from the broker (0: never); stale depths show as an old time",
        registry=live,
    ).set(_queues_read_at)
