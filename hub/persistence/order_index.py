"""Which orders each principal has sent, for the doors' check of a cancel before it is answered.

An order is known once its worker recorded it (``prescriptions``, by correlation id, which names the owner)
or, before that, once a door of any process accepted it: that acceptance is a row of the inbound journal
(door ``order``, sender the principal, control id the correlation id), written beside the answer like a
dedupe record. A cancel sent a moment after its order therefore finds it although intake has not run yet.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from concurrent.futures import Future

from hub.persistence.inbound import ORDER_INDEX_DOOR
from hub.service.inbound_entry import InboundEntry
from hub.service.ports import DedupeJournal, InboundLog

log = logging.getLogger(__name__)


class JournalOrderIndex:
    """``hub.service.ports.OrderIndex`` over the inbound journal and the recorded prescriptions."""

    def __init__(self, journal: DedupeJournal, recorded: Callable[[str], Awaitable[bool]]) -> None:
        self._journal, self._recorded = journal, recorded

    async def known(self, principal: str, correlation_id: str) -> bool:
        """Accepted from this principal (journal), else recorded (the correlation id holds the owner)."""
        if await self._journal.find(ORDER_INDEX_DOOR, principal, correlation_id) is not None:
            return True
        return await self._recorded(correlation_id)

    def accepted(self, principal: str, correlation_id: str, message_id: str) -> None:
        """Queue the index row of an order the broker just confirmed."""
        self._journal.record_later(_index_entry(principal, correlation_id, message_id)).add_done_callback(_written)


def _index_entry(principal: str, correlation_id: str, message_id: str) -> InboundEntry:
    """The index row of an order: not a message, so no raw body and no answer."""
    return InboundEntry(ORDER_INDEX_DOOR, principal, correlation_id, "order", b"", "accepted", None, [message_id])


def _written(done: Future[str]) -> None:
    if not done.cancelled() and done.exception() is not None:
        log.warning("order index row not written: %s", done.exception())


class InboundOrderIndex:
    """The same over the plain inbound store, for an app served without the doors' journal (tests, tools)."""

    def __init__(self, inbound: InboundLog, recorded: Callable[[str], Awaitable[bool]]) -> None:
        self._inbound, self._recorded = inbound, recorded

    async def known(self, principal: str, correlation_id: str) -> bool:
        """Accepted from this principal, else recorded."""
        if await asyncio.to_thread(self._inbound.find, ORDER_INDEX_DOOR, principal, correlation_id) is not None:
            return True
        return await self._recorded(correlation_id)

    def accepted(self, principal: str, correlation_id: str, message_id: str) -> None:
        """Write the index row on a worker thread (the answer does not wait for it)."""
        task = asyncio.get_running_loop().run_in_executor(
            None,
            lambda: self._inbound.record(_index_entry(principal, correlation_id, message_id)),
        )
        task.add_done_callback(_done)


def _done(task: asyncio.Future[str]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.warning("order index row not written: %s", task.exception())
