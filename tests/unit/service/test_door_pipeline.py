"""The one door pipeline against a fake store and a fake broker (the real protocols): first message wins, a
resend gets its first answer, a key goes back when its message is not accepted, a store down lets it through."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field

import pytest

from hub.errors import BrokerUnavailable, DatabaseUnavailable
from hub.messaging.envelope import Envelope
from hub.persistence.inbound import InboundRecord
from hub.service.door_pipeline import DoorPipeline, Seen
from hub.service.inbound_entry import CLAIMED, InboundEntry
from hub.service.ports import InboundRecord as Record

Key = tuple[str, str, str]


@dataclass
class FakeJournal:
    """Implements DedupeJournal in memory: one row per key, a claim without an answer until recorded."""

    rows: dict[Key, InboundRecord] = field(default_factory=dict)
    down: bool = False
    #: answers recorded the moment the n-th lookup is made (a first copy finishing elsewhere)
    answer_on_lookup: dict[int, InboundEntry] = field(default_factory=dict)
    lookups: int = 0

    async def find(self, door: str, sender: str, control_id: str) -> InboundRecord | None:
        self._check()
        self.lookups += 1
        if (entry := self.answer_on_lookup.pop(self.lookups, None)) is not None:
            self.record_later(entry)
        return self.rows.get((door, sender, control_id))

    async def claim(self, entry: InboundEntry) -> InboundRecord | None:
        self._check()
        key = (entry.door, entry.sender, entry.control_id)
        if key in self.rows:
            return self.rows[key]
        self.rows[key] = InboundRecord(entry.record_id or "claim", CLAIMED, None, [], entry.raw)
        return None

    def release(self, door: str, sender: str, control_id: str) -> None:
        held = self.rows.get((door, sender, control_id))
        if held is not None and held.answer is None:
            del self.rows[(door, sender, control_id)]

    def record_later(self, entry: InboundEntry) -> Future[str]:
        record_id = entry.record_id or "record"
        key = (entry.door, entry.sender, entry.control_id)
        self.rows[key] = InboundRecord(record_id, entry.outcome, entry.answer, entry.command_ids, entry.raw)
        done: Future[str] = Future()
        done.set_result(record_id)
        return done

    async def drain(self) -> None:
        """Records are written at once here."""

    def _check(self) -> None:
        if self.down:
            raise DatabaseUnavailable("the database is down")


@dataclass
class FakeSink:
    """Implements CommandSink: keeps what was published, or refuses like a broker that is down."""

    down: bool = False
    published: list[list[Envelope]] = field(default_factory=list)

    async def publish_commands(self, envelopes: list[Envelope]) -> None:
        if self.down:
            raise BrokerUnavailable("the broker is down")
        self.published.append(envelopes)


def _entry(raw: bytes = b"order A") -> InboundEntry:
    return InboundEntry("hl7", "EHR|NORTH", "C1", "RDE^O11", raw, record_id="r-1")


def _same(raw: bytes) -> Callable[[Record], bool]:
    return lambda earlier: earlier.raw is None or earlier.raw == raw


def _pipeline(journal: FakeJournal, sink: FakeSink | None = None, wait_s: float = 1.0) -> DoorPipeline:
    return DoorPipeline(journal, sink or FakeSink(), first_answer_wait_s=wait_s)


def test_a_new_message_is_claimed_published_and_its_resend_gets_the_first_answer() -> None:
    journal, sink = FakeJournal(), FakeSink()
    pipeline = _pipeline(journal, sink)

    async def scenario() -> None:
        first = await pipeline.dedupe(_entry(), _same(b"order A"))
        assert (first.seen, first.claimed) == (Seen.NEW, True)
        await pipeline.publish([], (_entry(), first))
        pipeline.record(_entry().answered("AA", b"ACK 1", ["cmd-1"]))
        again = await pipeline.dedupe(_entry(), _same(b"order A"))
        assert again.seen is Seen.RESEND and again.holder is not None and again.holder.answer == b"ACK 1"

    asyncio.run(scenario())
    assert len(sink.published) == 1


def test_another_message_under_a_used_key_is_reused_whether_answered_or_still_in_flight() -> None:
    journal = FakeJournal()
    pipeline = _pipeline(journal)

    async def scenario() -> None:
        await pipeline.dedupe(_entry(), _same(b"order A"))  # claimed, not answered yet
        assert (await pipeline.dedupe(_entry(b"order B"), _same(b"order B"))).seen is Seen.REUSED
        pipeline.record(_entry().answered("AA", b"ACK 1", []))
        assert (await pipeline.dedupe(_entry(b"order B"), _same(b"order B"))).seen is Seen.REUSED

    asyncio.run(scenario())


def test_a_resend_waits_for_the_answer_of_its_first_copy() -> None:
    journal = FakeJournal(answer_on_lookup={3: _entry().answered("AA", b"ACK 1", [])})
    pipeline = _pipeline(journal)

    async def scenario() -> None:
        await pipeline.dedupe(_entry(), _same(b"order A"))  # lookup 1, then the claim
        again = await pipeline.dedupe(_entry(), _same(b"order A"))  # lookup 2 finds the claim; 3 its answer
        assert again.seen is Seen.RESEND and again.holder is not None and again.holder.answer == b"ACK 1"

    asyncio.run(scenario())


def test_a_first_copy_never_answered_leaves_the_resend_in_flight() -> None:
    journal = FakeJournal()
    pipeline = _pipeline(journal, wait_s=0.1)

    async def scenario() -> None:
        await pipeline.dedupe(_entry(), _same(b"order A"))
        again = await pipeline.dedupe(_entry(), _same(b"order A"))
        assert (again.seen, again.claimed) == (Seen.IN_FLIGHT, False)

    asyncio.run(scenario())


def test_a_message_the_broker_refused_gives_its_key_back() -> None:
    journal, sink = FakeJournal(), FakeSink(down=True)
    pipeline = _pipeline(journal, sink)

    async def scenario() -> None:
        verdict = await pipeline.dedupe(_entry(), _same(b"order A"))
        with pytest.raises(BrokerUnavailable):
            await pipeline.publish([], (_entry(), verdict))
        corrected = await pipeline.dedupe(_entry(b"order A2"), _same(b"order A2"))
        assert (corrected.seen, corrected.claimed) == (Seen.NEW, True)

    asyncio.run(scenario())


def test_a_store_that_cannot_be_read_lets_the_message_through_unclaimed() -> None:
    journal = FakeJournal(down=True)
    pipeline = _pipeline(journal)

    async def scenario() -> None:
        verdict = await pipeline.dedupe(_entry(), _same(b"order A"))
        assert (verdict.seen, verdict.claimed) == (Seen.NEW, False)
        pipeline.release(_entry(), verdict)  # nothing was claimed: nothing to give back
        assert await pipeline.find("hl7", "EHR|NORTH", "C1") is None

    asyncio.run(scenario())
    assert journal.rows == {}
