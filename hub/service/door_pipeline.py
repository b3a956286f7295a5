"""The path every door takes with a message it has read: dedupe (claim the key), publish with confirms, record.

The doors (HL7 MLLP, FHIR, SCRIPT) differ in how they read a sender and a message and in their standard's
answers; what they promise is the same, so it is written once here:

* the first of two different messages under one key wins, the other is refused at once (``REUSED``);
* a resend of an accepted message gets its original answer (``RESEND``), also while its first copy is still
  being recorded, by this process or another (it waits up to ``first_answer_wait_s`` for that answer);
* a positive answer is given only after the broker confirmed every command (``publish``); a message not
  accepted gives its key back, so a corrected resend is read afresh;
* the answer is recorded beside it for resends (``record``).

A store that cannot be read does not stop a message: it is published anyway (``NEW``, unclaimed), and the
command ids the doors derive from sender and message id let the workers drop a second copy.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import Future
from dataclasses import dataclass
from enum import StrEnum

from hub.errors import InfrastructureError
from hub.messaging.envelope import Envelope
from hub.service.inbound_entry import InboundEntry
from hub.service.ports import CommandSink, DedupeJournal, InboundRecord

log = logging.getLogger(__name__)

#: how long a resend waits for the answer of its first copy still being accepted (by this or another instance)
FIRST_ANSWER_WAIT_S = 3.0


class Seen(StrEnum):
    """What the store says of a message's key."""

    NEW = "new"
    RESEND = "resend"
    REUSED = "reused"
    #: the same message, its first copy still without an answer once the wait is over (or its process died)
    IN_FLIGHT = "in_flight"


@dataclass(frozen=True)
class Verdict:
    """The dedupe outcome of one message."""

    seen: Seen
    #: what holds the key (None for a new message)
    holder: InboundRecord | None = None
    #: this message holds the key now: ``release`` gives it back when the message is not accepted after all
    claimed: bool = False


Same = Callable[[InboundRecord], bool]


class DoorPipeline:
    """Dedupe, publish and record for one door over one store."""

    def __init__(
        self, journal: DedupeJournal, sink: CommandSink, *, first_answer_wait_s: float = FIRST_ANSWER_WAIT_S
    ) -> None:
        self._journal, self._sink, self._wait_s = journal, sink, first_answer_wait_s

    async def find(self, door: str, sender: str, control_id: str) -> InboundRecord | None:
        """The record under a key; None when there is none or the store cannot be read (logged)."""
        try:
            return await self._journal.find(door, sender, control_id)
        except InfrastructureError as exc:
            log.warning("dedupe lookup failed: %s", exc, extra={"control_id": control_id})
            return None

    def look_up(self, entry: InboundEntry) -> asyncio.Future[InboundRecord | None]:
        """Start the lookup of a message's key now (while the door checks the message), for ``dedupe``."""
        lookup = asyncio.ensure_future(self._journal.find(entry.door, entry.sender, entry.control_id))
        lookup.add_done_callback(_retrieved)  # a message refused meanwhile never awaits it
        return lookup

    async def dedupe(
        self, entry: InboundEntry, same: Same, lookup: Awaitable[InboundRecord | None] | None = None
    ) -> Verdict:
        """Look the key up (or await ``lookup``), claim it when free, and say what the message is."""
        try:
            earlier = await (lookup if lookup is not None else self._journal.find(*_key(entry)))
        except InfrastructureError as exc:  # cannot check: publish anyway, derived ids keep it harmless
            log.warning("dedupe lookup failed: %s", exc, extra={"control_id": entry.control_id})
            return Verdict(Seen.NEW)
        return await self.settle(entry, same, earlier)

    async def settle(self, entry: InboundEntry, same: Same, earlier: InboundRecord | None) -> Verdict:
        """``dedupe`` for a key already looked up (``earlier``): claim it when free."""
        if earlier is None:
            try:
                earlier = await self._journal.claim(entry)
            except InfrastructureError as exc:
                log.warning("dedupe claim failed: %s", exc, extra={"control_id": entry.control_id})
                return Verdict(Seen.NEW)
            if earlier is None:
                return Verdict(Seen.NEW, claimed=True)
        if not same(earlier):
            return Verdict(Seen.REUSED, earlier)
        if earlier.answer is None:
            earlier = await self._first_answer(entry, earlier)
        return Verdict(Seen.RESEND if earlier.answer is not None else Seen.IN_FLIGHT, earlier)

    async def _first_answer(self, entry: InboundEntry, holder: InboundRecord) -> InboundRecord:
        """The holder once its answer is recorded; as it was after the wait, or when its key was given back."""
        deadline = time.monotonic() + self._wait_s
        while time.monotonic() < deadline:
            await asyncio.sleep(0.05)
            try:
                found = await self._journal.find(*_key(entry))
            except InfrastructureError:
                return holder
            if found is None or found.answer is not None:
                return found or holder
        return holder

    async def publish(self, envelopes: list[Envelope], *held: tuple[InboundEntry, Verdict]) -> None:
        """Publish with confirms; when that fails, the keys ``held`` go back before the error goes on."""
        try:
            await self._sink.publish_commands(envelopes)
        except BaseException:
            for entry, verdict in held:
                self.release(entry, verdict)
            raise

    def release(self, entry: InboundEntry, verdict: Verdict) -> None:
        """Give the key back when this message claimed it: it was not accepted, a resend is read afresh."""
        if verdict.claimed:
            self._journal.release(*_key(entry))

    def release_key(self, door: str, sender: str, control_id: str) -> None:
        """Give back a key claimed earlier by this process (a no-op for a key it does not hold)."""
        self._journal.release(door, sender, control_id)

    def record(self, entry: InboundEntry) -> Future[str]:
        """Queue the answered message for resends; a failure to write is logged (the answer stands)."""
        done = self._journal.record_later(entry)
        done.add_done_callback(_recorded)
        return done

    async def drain(self) -> None:
        """Wait for the records still being written (tests; shutdown)."""
        await self._journal.drain()


def _key(entry: InboundEntry) -> tuple[str, str, str]:
    return entry.door, entry.sender, entry.control_id


def _retrieved(lookup: asyncio.Future[InboundRecord | None]) -> None:
    if not lookup.cancelled():
        lookup.exception()


def _recorded(done: Future[str]) -> None:
    if not done.cancelled() and done.exception() is not None:
        log.warning("dedupe record not written: %s", done.exception())
