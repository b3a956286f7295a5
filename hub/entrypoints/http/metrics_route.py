"""``GET /metrics``: Prometheus text, with gauges read at scrape time (queue depths, backlog, states)."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Gauge

from hub.entrypoints.http.admin_routes import _db_figures, queue_depths
from hub.observability.metrics import exposition

router = APIRouter(tags=["operations"])


@router.get("/metrics")
async def metrics(request: Request) -> Response:
    """Counters and histograms of this process and its workers plus live gauges; labels never carry patient
    data."""
    live = CollectorRegistry()
    figures = await asyncio.to_thread(_db_figures, request)
    Gauge("rxhub_outbox_backlog", "Outbox rows not yet published", registry=live).set(figures["outbox_backlog"])
    states = Gauge("rxhub_prescriptions", "Prescriptions by current state", ["state"], registry=live)
    for state, n in figures["prescriptions"].items():
        states.labels(state).set(n)
    claims = Gauge("rxhub_claim_transmissions", "Claim transmissions by payer status", ["status"], registry=live)
    for status, n in figures["claims"].items():
        claims.labels(status).set(n)
    try:
        depths = await asyncio.to_thread(queue_depths, request.app.state.settings)
    except Exception:
        depths = {}
    queue = Gauge("rxhub_queue_depth", "Messages waiting per queue", ["queue"], registry=live)
    for name, n in depths.items():
        queue.labels(name).set(n)
    return Response(exposition(live), media_type=CONTENT_TYPE_LATEST)
