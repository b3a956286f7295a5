"""Integration engineers' API: find any message and its story, dead letters and replay, the dashboard."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Depends, HTTPException
from pydantic import BaseModel, ConfigDict
from sqlalchemy import Engine, func, select
from sqlalchemy.exc import SQLAlchemyError

from adapters.hl7.outbound.destination_state import DestinationStatus
from hub.config import Settings
from hub.entrypoints.http.auth import require
from hub.entrypoints.http.dependencies import Audit, DbEngine, HubSettings, Services
from hub.entrypoints.outbound_view import as_dict, destination_statuses
from hub.entrypoints.runtime import topology_for
from hub.errors import RxHubError
from hub.messaging.blocking_publisher import connect
from hub.messaging.dead_letters import DeadLetterQueue
from hub.persistence.database import read_connection
from hub.persistence.message_log import MessageLog
from hub.persistence.outbox_store import OutboxStore
from hub.persistence.prescriptions import PrescriptionRepository
from hub.persistence.tables import claim_transmissions, inbound_messages, prescriptions
from hub.persistence.users import User

log = logging.getLogger(__name__)
router = APIRouter(prefix="/api/admin", tags=["admin"])
ADMIN = require("admin")


class ReplayRequest(BaseModel):
    """Which dead letters to replay: one by message id, a filter, or all."""

    model_config = ConfigDict(extra="forbid")
    message_id: str | None = None
    failure_kind: str | None = None
    message_type: str | None = None
    all: bool = False


def _dlq(settings: Settings) -> DeadLetterQueue:
    return DeadLetterQueue(settings.amqp_url.get_secret_value(), topology_for(settings))


@router.get("/messages")
def messages(
    engine: DbEngine,
    control_id: str | None = None,
    rx_number: str | None = None,
    placer_order_number: str | None = None,
    door: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    user: User = Depends(ADMIN),
) -> list[dict[str, Any]]:
    """Find messages by control id, Rx number, placer order number or time."""
    with read_connection(engine) as conn:
        log = MessageLog(conn)
        ids = (
            log.message_ids_for_prescription(rx_number, placer_order_number)
            if rx_number or placer_order_number
            else None
        )
        return log.search(control_id=control_id, door=door, since=since, until=until, ids=ids)


@router.get("/messages/{message_id}")
def message_story(
    message_id: str, engine: DbEngine, audit: Audit, raw: bool = False, user: User = Depends(ADMIN)
) -> dict[str, Any]:
    """One message's story; the raw message (patient details) only on request, and that read is audited."""
    with read_connection(engine) as conn:
        story = MessageLog(conn).story(message_id, with_raw=raw)
        made = [p["prescription_id"] for p in (story or {}).get("prescriptions", [])]
        theirs = select(prescriptions.c.patient_id).where(prescriptions.c.id.in_(made))
        patients = sorted({p for p in conn.execute(theirs).scalars() if p}) if raw and made else []
    if story is None:
        raise HTTPException(404, "no such message")
    if raw:  # the patients of the prescriptions it made: ``audit query --patient`` finds the read
        audit.record(
            actor=user.name,
            role=user.role,
            action="read raw message",
            patient_id=patients[0] if len(patients) == 1 else None,
            detail={
                "message_id": message_id,
                "control_id": story["control_id"],
                "patient_ids": patients,
                "prescription_ids": made,
            },
        )
    return story


@router.get("/dead-letters")
async def dead_letters(services: Services, user: User = Depends(ADMIN)) -> list[dict[str, Any]]:
    """Dead letters with their reasons (no bodies), each with the Rx number of the prescription it is about
    (None when its order was never recorded, or it is about no prescription: a stock delivery)."""
    letters = await asyncio.to_thread(_dlq(services.settings).list)
    rx_numbers = await asyncio.to_thread(_rx_numbers, services.engine, [letter.correlation_id for letter in letters])
    return [letter.__dict__ | {"rx_number": rx_numbers.get(letter.correlation_id)} for letter in letters]


def _rx_numbers(engine: Engine, correlation_ids: list[str]) -> dict[str, str]:
    with read_connection(engine) as conn:
        return PrescriptionRepository(conn).rx_numbers([c for c in correlation_ids if c])


@router.post("/dead-letters/replay")
async def replay(
    body: ReplayRequest, settings: HubSettings, audit: Audit, user: User = Depends(ADMIN)
) -> dict[str, Any]:
    """Replay through the normal path; idempotent, and every replay is audited."""
    filters = {"message_id": body.message_id, "failure_kind": body.failure_kind, "message_type": body.message_type}
    if not body.all and not any(filters.values()):
        raise HTTPException(422, "say which dead letters to replay (a filter, or all=true)")

    def on_replay(letter: Any) -> None:
        audit.record(
            actor=user.name,
            role=user.role,
            action="dlq replay",
            detail={"message_id": letter.message_id, "type": letter.message_type},
        )

    dlq = _dlq(settings)
    replayed = await asyncio.to_thread(
        lambda: dlq.replay(
            on_replay=on_replay,
            message_id=body.message_id,
            failure_kind=body.failure_kind,
            message_type=body.message_type,
        )
    )
    return {"replayed": [x.message_id for x in replayed]}


@router.get("/dashboard")
async def dashboard(services: Services, user: User = Depends(ADMIN)) -> dict[str, Any]:
    """Live figures: messages per door, states, claim outcomes, backlog, dead letters, queue depths."""
    settings = services.settings
    figures = await asyncio.to_thread(db_figures, services.engine)
    try:
        figures["dead_letters"] = await asyncio.to_thread(_dlq(settings).depth)
        figures["queues"] = await asyncio.to_thread(queue_depths, settings)
    except Exception as exc:  # the dashboard still shows the database side when the broker is away
        figures["broker_error"] = type(exc).__name__
    figures["outbound"] = [as_dict(s) for s in await outbound_destinations(settings, services.engine)]
    return figures


async def outbound_destinations(settings: Settings, engine: Engine) -> list[DestinationStatus]:
    """Each outbound HL7 destination's state as its sender last wrote it, with its backlog from the broker."""
    try:
        return await asyncio.to_thread(destination_statuses, settings, engine)
    except (RxHubError, SQLAlchemyError) as exc:  # the rest of the dashboard still shows
        log.warning("outbound destinations not read: %s", exc)
        return []


def db_figures(engine: Engine) -> dict[str, Any]:
    """Messages per door and outcome, prescriptions per state, claims per payer status, the outbox backlog."""
    with read_connection(engine) as conn:
        doors = {
            f"{d}:{o}": n
            for d, o, n in conn.execute(
                select(inbound_messages.c.door, inbound_messages.c.outcome, func.count()).group_by(
                    inbound_messages.c.door, inbound_messages.c.outcome
                )
            ).all()
        }
        claims = {
            str(s): n
            for s, n in conn.execute(
                select(claim_transmissions.c.status, func.count()).group_by(claim_transmissions.c.status)
            ).all()
        }
        states = PrescriptionRepository(conn).count_by_state()
    return {
        "messages": doors,
        "prescriptions": states,
        "claims": claims,
        "outbox_backlog": OutboxStore(engine).backlog(),
    }


def queue_depths(settings: Any) -> dict[str, int]:
    """Messages waiting in each work queue (passive declares: nothing is created)."""
    return {name: waiting for name, (waiting, _) in queue_figures(settings).items()}


def queue_figures(settings: Any) -> dict[str, tuple[int, int]]:
    """Messages waiting in and consumers of each queue, in one passive declare per queue."""
    topology = topology_for(settings)
    connection = connect(settings.amqp_url.get_secret_value())
    try:
        channel = connection.channel()
        figures = {}
        for queue in topology.queues():
            ok = channel.queue_declare(queue.name, passive=True).method
            figures[queue.name] = (int(ok.message_count), int(ok.consumer_count))
        return figures
    finally:
        connection.close()
