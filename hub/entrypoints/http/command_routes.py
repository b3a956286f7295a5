"""What became of a command the staff API accepted: ``GET /api/commands/{id}``, for its sender and admins.

A 202 means the command is durably queued, not that it was applied: the console waits on this answer before
it shows a result (pending, applied, refused or dead-lettered, with the reason).
"""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Depends, HTTPException

from hub.entrypoints.http.auth import require
from hub.entrypoints.http.dependencies import DbEngine
from hub.entrypoints.http.staff_models import CommandStatus
from hub.persistence import command_outcomes
from hub.persistence.users import User

router = APIRouter(prefix="/api", tags=["staff"])


@router.get("/commands/{command_id}", response_model=CommandStatus)
async def command_status(
    command_id: str, engine: DbEngine, user: User = Depends(require("technician", "pharmacist", "admin"))
) -> CommandStatus:
    """The outcome of a command this user sent (an admin: anyone's); another user's is not found (404)."""
    found = await asyncio.to_thread(command_outcomes.read, engine, command_id[:36])
    if found is None or (found.actor != user.id and user.role != "admin"):
        raise HTTPException(404, f"no command {command_id} of yours")
    return CommandStatus(
        command_id=found.command_id,
        command=found.command,
        status=found.outcome,
        reason=found.reason,
        prescription_id=found.prescription_id,
        rx_number=found.rx_number,
        at=found.at,
    )
