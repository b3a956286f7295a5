"""An Idempotency-Key names one action: the same user, the same command, the same prescription. Reused for
another command or prescription it is answered 409, instead of the second action being taken for a retry of
the first and dropped as a duplicate without a word.

The command id is derived from the user and the key, so a true retry publishes the same command again (the
workers apply it once). What the key was first used for is found in the command outcomes (written with the
first request's audit entry) or, for the moments before that write commits, in this process's memory.
"""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections import OrderedDict

from fastapi import HTTPException
from sqlalchemy import Engine

from hub.persistence.command_outcomes import read

#: targets remembered in memory (the database has them all; this covers a retry racing the first write)
REMEMBERED = 10_000
#: (command type, prescription id) an action is about
Target = tuple[str, str | None]


class IdempotencyKeys:
    """Command id -> the target its key was first used for, in this process (bounded, thread-safe)."""

    def __init__(self, size: int = REMEMBERED) -> None:
        self._seen: OrderedDict[uuid.UUID, Target] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def claim(self, command_id: uuid.UUID, target: Target) -> Target:
        """The target already held by ``command_id``, or ``target`` once it is claimed for it."""
        with self._lock:
            held = self._seen.setdefault(command_id, target)
            self._seen.move_to_end(command_id)
            while len(self._seen) > self._size:
                self._seen.popitem(last=False)
            return held


async def accepted_before(
    keys: IdempotencyKeys,
    engine: Engine,
    command_id: uuid.UUID,
    command_type: str,
    prescription_id: str | None,
    key: str,
) -> bool:
    """True when the key's command was already accepted for this target (a retry: answer as before); 409 when
    the key was used for another command or prescription; False for a first use."""
    target: Target = (command_type[:100], prescription_id)
    earlier = await asyncio.to_thread(read, engine, str(command_id))
    held = (earlier.command, earlier.prescription_id) if earlier is not None else keys.claim(command_id, target)
    if held[0] != target[0] or (target[1] is not None and held[1] != target[1]):  # None: a new prescription
        raise HTTPException(
            409,
            f"Idempotency-Key {key[:60]!r} was already used for {held[0]} on prescription "
            f"{held[1] or '(new)'}; use a new key for another action",
        )
    return earlier is not None
