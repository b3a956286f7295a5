"""How a staff action becomes a command: checked, published with confirms, audited, answered 202.

Every action route ends here (``send_command``, or ``act`` for an action that only needs the prescription's
state): the command id is derived from an Idempotency-Key when there is one (a retry is answered as before; a
key reused for another action, 409), text no database can hold is refused (422), the audit entry commits with
the command's pending outcome, so a 202 always has an outcome to ask for (``GET /api/commands/{id}``).
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from fastapi import HTTPException, Request
from sqlalchemy import Engine

from hub.domain.actors import Role
from hub.domain.commands import Command
from hub.domain.order_parts import Source
from hub.domain.prescription import Prescription
from hub.domain.states import RxState
from hub.domain.storable import first_unstorable
from hub.entrypoints.http.action_checks import require_state
from hub.entrypoints.http.auth import require
from hub.entrypoints.http.dependencies import HttpServices, services_of
from hub.entrypoints.http.idempotency_keys import accepted_before
from hub.entrypoints.http.staff_models import Accepted
from hub.messaging.envelope import Envelope, derived_message_id
from hub.persistence.command_outcomes import PENDING, outcome_row
from hub.persistence.database import read_connection
from hub.persistence.prescriptions import PrescriptionRepository, PrescriptionRow, load_aggregate
from hub.persistence.users import User
from hub.security.principals import user_principal

STAFF = ("technician", "pharmacist", "admin")
HANDS_ON = ("technician", "pharmacist")
#: the pharmacist gate: the role, and a licence number on file (403 otherwise, audited)
LICENSED_PHARMACIST = require(Role.PHARMACIST.value, licensed=True)


def prescription_row(engine: Engine, prescription_id: str) -> PrescriptionRow:
    """The stored prescription, or 404."""
    with read_connection(engine) as conn:
        row = PrescriptionRepository(conn).get(prescription_id)
    if row is None:
        raise HTTPException(404, f"no prescription {prescription_id}")
    return row


async def read_prescription(request: Request, prescription_id: str) -> tuple[PrescriptionRow, Prescription]:
    """The stored prescription and its aggregate, read on a worker thread (404 when there is none): for the
    checks that need more than its state (alerts, the ordered drug, refills)."""
    row = await asyncio.to_thread(prescription_row, services_of(request.app).engine, prescription_id)
    return row, load_aggregate(row)


def storable(command: Command) -> None:
    """Text no database can hold is refused (422), as the doors refuse it, not accepted for a worker to fail on."""
    found = first_unstorable(command)
    if found is not None:
        raise HTTPException(422, found.describe(found.dotted() or "the request"))


async def send_command(
    request: Request,
    user: User,
    command: Command,
    *,
    correlation_id: uuid.UUID,
    prescription_id: str | None,
    idempotency_key: str | None,
    source: Source = Source.API,
    detail: dict[str, Any] | None = None,
    checked: bool = False,
) -> Accepted:
    """Publish with confirms, audit, answer 202; an Idempotency-Key makes a retried request harmless (answered as
    before; 409 when it is reused for another action: ``accepted_before``, unless the caller ``checked`` it)."""
    storable(command)
    services = services_of(request.app)
    message_id = derived_message_id("api", user.id, idempotency_key) if idempotency_key else uuid.uuid4()
    envelope = Envelope.wrap(
        command,
        correlation_id=correlation_id,
        source=source,
        message_id=message_id,
        actor=user.id,
        principal=user_principal(user.name, user.role),
    )
    queued = outcome_row(envelope, PENDING, prescription_id=prescription_id)
    target = queued["prescription_id"]
    if idempotency_key and not checked and await _retried(services, message_id, envelope.type, target, idempotency_key):
        return Accepted(command_id=str(message_id), command=command.name, prescription_id=prescription_id)
    await services.sink.publish_commands([envelope])
    await services.audit.record_soon(
        actor=user.name,
        role=user.role,
        action=f"request {command.name}",
        prescription_id=prescription_id,
        detail={"command_id": str(message_id), **(detail or {})},
        queued=queued,
    )
    return Accepted(command_id=str(message_id), command=command.name, prescription_id=prescription_id)


async def _retried(
    services: HttpServices, command_id: uuid.UUID, command_type: str, prescription_id: str | None, key: str
) -> bool:
    """``accepted_before`` with this app's keys and database."""
    keys, engine = services.idempotency_keys, services.engine
    return await accepted_before(keys, engine, command_id, command_type, prescription_id, key)


async def send_about(
    request: Request, user: User, row: PrescriptionRow, command: Command, idempotency_key: str | None
) -> Accepted:
    """``send_command`` for a command about the stored prescription ``row`` (its order's correlation id)."""
    return await send_command(
        request,
        user,
        command,
        correlation_id=uuid.UUID(row.correlation_id),
        prescription_id=row.id,
        idempotency_key=idempotency_key,
    )


async def answered_before(
    request: Request, user: User, command_name: str, prescription_id: str, key: str | None
) -> Accepted | None:
    """The first answer to a request retried under its Idempotency-Key, None for a new one. A route asks this
    before its own checks: the action it accepted has moved the prescription on, and checked again now it would
    be refused (409 when the key was used for another action: ``accepted_before``)."""
    if not key:
        return None
    services = services_of(request.app)
    command_id = derived_message_id("api", user.id, key)
    keys, engine = services.idempotency_keys, services.engine
    if await accepted_before(keys, engine, command_id, command_name, prescription_id, key):
        return Accepted(command_id=str(command_id), command=command_name, prescription_id=prescription_id)
    return None


async def act(
    request: Request,
    user: User,
    prescription_id: str,
    command: Command,
    key: str | None,
    allowed: tuple[RxState, ...],
    *,
    retry_checked: bool = False,
) -> Accepted:
    """An action that needs only the prescription's state to be one of ``allowed`` (409 otherwise);
    ``retry_checked``: the route already asked ``answered_before`` (one lookup per request, not two)."""
    # what an action checks before it is queued: the state and the correlation id (not the document)
    services = services_of(request.app)
    found = await services.rx_states.state_of(prescription_id)
    if found is None:
        raise HTTPException(404, f"no prescription {prescription_id}")
    state, correlation_id = found
    if not retry_checked and (before := await answered_before(request, user, command.name, prescription_id, key)):
        return before
    await require_state(request, user, prescription_id, state, allowed, command=command.name)
    return await send_command(
        request,
        user,
        command,
        correlation_id=uuid.UUID(correlation_id),
        prescription_id=prescription_id,
        idempotency_key=key,
        checked=True,
    )
