"""Where prescriptions stand, read for the staff API's actions on one lane.

Every staff action (an approval, a product choice, a claim resolution...) checks the prescription's state
before it queues its command, so a pharmacist gets a 409 at once instead of a command the worker refuses
later. Read per request on a pooled connection and a worker thread, that check was a thread hop, a pool
checkout and a query for each approval: about a third of what an approval cost the listeners' process. The
lane keeps one connection and reads the state of every prescription asked about at the same moment with one
query.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import Future
from dataclasses import dataclass

from sqlalchemy import Connection, Engine

from hub.persistence.database import lookup_connection
from hub.persistence.lane import Lane
from hub.persistence.prescriptions import PrescriptionRepository

#: the lane's connection goes back to the pool after this long without a request
_IDLE_S = 5.0

#: (state, correlation id)
StateAndCorrelation = tuple[str, str]


@dataclass(frozen=True)
class _Ask:
    prescription_id: str
    done: Future[StateAndCorrelation | None]


class PrescriptionStates:
    """``state_of`` from the event loop, answered in batches on a thread with its own connection."""

    def __init__(self, engine: Engine) -> None:
        # the lane's thread starts with the first ask (and again after close)
        self._lane = Lane(
            "rx-state-reads", lambda: lookup_connection(engine), _read_all, idle_s=_IDLE_S, what="prescription store"
        )

    async def state_of(self, prescription_id: str) -> StateAndCorrelation | None:
        """The prescription's state and correlation id, or None when there is no such prescription;
        ``DatabaseUnavailable`` when it could not be read."""
        ask = _Ask(prescription_id, Future())
        self._lane.submit(ask)
        return await asyncio.wrap_future(ask.done)

    def close(self, timeout_s: float = 10.0) -> None:
        """Answer what is queued, then end the thread and give the connection back."""
        self._lane.close(timeout_s)


def _read_all(conn: Connection, asks: list[_Ask]) -> None:
    found = PrescriptionRepository(conn).states_of(list({a.prescription_id for a in asks}))
    if conn.in_transaction():  # SQLite: end the read, so the next batch sees what committed since
        conn.rollback()
    for ask in asks:
        ask.done.set_result(found.get(ask.prescription_id))
