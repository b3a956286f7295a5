"""The write interactions against fake ports (real interfaces): one confirmed batch per transaction, nothing
recorded when the broker refuses, a resend answered from the dedupe record, batch entries on their own."""

from __future__ import annotations

import asyncio
import json
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

import pytest

from adapters.fhir.door import FhirDoor
from adapters.fhir.message_door import process_message
from adapters.fhir.writes import create, post_base
from hub.domain.parties import Patient
from hub.domain.prescription import Prescription
from hub.errors import BrokerUnavailable
from hub.messaging.envelope import Envelope
from hub.persistence.inbound import InboundRecord
from hub.service.inbound_entry import InboundEntry
from tests.unit.fhir.builders import bundle_of, bundled_request, medication_request, patient, practitioner
from tests.unit.fhir.corpus import corpus_bytes


@dataclass
class FakeSink:
    """Implements CommandSink: records each publish call, or refuses like a broker that is down."""

    down: bool = False
    calls: list[list[Envelope]] = field(default_factory=list)

    async def publish_commands(self, envelopes: list[Envelope]) -> None:
        if self.down:
            raise BrokerUnavailable("RabbitMQ is not reachable")
        self.calls.append(envelopes)


@dataclass
class FakeInbound:
    """Implements InboundLog in memory."""

    records: dict[tuple[str, str, str], InboundRecord] = field(default_factory=dict)

    def find(self, door: str, sender: str, control_id: str) -> InboundRecord | None:
        return self.records.get((door, sender, control_id))

    def claim(self, entry: InboundEntry) -> InboundRecord | None:
        key = (entry.door, entry.sender, entry.control_id)
        if key in self.records:
            return self.records[key]
        self.records[key] = InboundRecord(entry.record_id or "r", entry.outcome, None, [], entry.raw)
        return None

    def release(self, record_id: str) -> None:
        self.records = {k: r for k, r in self.records.items() if r.id != record_id or r.answer is not None}

    def record(self, entry: InboundEntry) -> str:
        key = (entry.door, entry.sender, entry.control_id)
        held = self.records.get(key)
        if held is None or held.answer is None:  # an answer fills its claim
            record_id = held.id if held else entry.record_id or "r"
            self.records[key] = InboundRecord(record_id, entry.outcome, entry.answer, entry.command_ids, entry.raw)
        return self.records[key].id


class NoPrescriptions:
    """Implements PrescriptionQueries for a pharmacy whose workers have recorded nothing yet."""

    def prescription(self, prescription_id: str) -> Prescription | None:
        return None

    def prescription_by_placer(self, placer_system: str | None, placer_order_number: str) -> Prescription | None:
        return None

    def prescription_by_correlation(self, correlation_id: str) -> Prescription | None:
        return None

    def patient(self, patient_id: str) -> Patient | None:
        return None


def _door(sink: FakeSink, inbound: FakeInbound) -> FhirDoor:
    return FhirDoor(sink, inbound, NoPrescriptions())


def _order(placer: str, **changes: Any) -> dict[str, Any]:
    return bundled_request(identifier=[{"system": "urn:example:ehr", "value": placer}], **changes)


def _body(resource: dict[str, Any]) -> bytes:
    return json.dumps(resource).encode()


def test_a_transaction_is_one_confirmed_batch() -> None:
    sink, inbound = FakeSink(), FakeInbound()
    bundle = bundle_of("transaction", _order("T-1"), patient(), practitioner(), _order("T-2"))
    door = _door(sink, inbound)

    async def post() -> Any:
        answer = await post_base(door, _body(bundle), "ehr")
        await door.drain()  # the dedupe records are written beside the answer
        return answer

    answer = asyncio.run(post())
    assert [len(call) for call in sink.calls] == [2]
    assert [e["response"]["status"] for e in answer.resource["entry"]] == [
        "201 Created",
        "201 Created",
        "200 OK",
        "201 Created",
    ]
    assert {c for _, _, c in inbound.records} == {"urn:example:ehr|T-1", "urn:example:ehr|T-2"}


def test_broker_down_records_nothing_and_a_resend_publishes_again() -> None:
    sink, inbound = FakeSink(down=True), FakeInbound()
    body = _body(medication_request(identifier=[{"system": "urn:example:ehr", "value": "D-1"}]))
    with pytest.raises(BrokerUnavailable):
        asyncio.run(create(_door(sink, inbound), body, "ehr", None))
    assert inbound.records == {}
    sink.down = False

    async def twice() -> tuple[Any, Any]:
        door = _door(sink, inbound)
        first = await create(door, body, "ehr", None)
        await door.drain()  # the dedupe record is written beside the 201
        return first, await create(door, body, "ehr", None)

    first, again = asyncio.run(twice())
    assert (first.status, again.status, len(sink.calls)) == (201, 200, 1)
    assert again.resource == first.resource and again.location == first.location


def test_a_message_resent_while_the_broker_is_down_gets_a_transient_error_reply() -> None:
    sink = FakeSink(down=True)
    answer = asyncio.run(
        process_message(
            _door(sink, FakeInbound()), corpus_bytes("nhs_eps_r4_bundle_message_controlled_drug.json"), "eps"
        )
    )
    header = answer.resource["entry"][0]["resource"]
    assert answer.status == 503 and header["response"]["code"] == "transient-error"
    assert answer.resource["entry"][1]["resource"]["issue"][0]["code"] == "transient"


def test_batch_entries_are_published_and_answered_one_by_one() -> None:
    sink, inbound = FakeSink(), FakeInbound()
    bundle = bundle_of("batch", _order("B-1"), patient(), practitioner(), _order("B-2", intent="plan"), _order("B-3"))
    answer = asyncio.run(post_base(_door(sink, inbound), _body(bundle), "ehr"))
    assert [len(call) for call in sink.calls] == [1, 1]
    assert [e["response"]["status"][:3] for e in answer.resource["entry"]] == ["201", "200", "200", "422", "201"]


def test_two_entries_for_one_order_publish_it_once() -> None:
    sink = FakeSink()
    bundle = bundle_of("transaction", _order("S-1"), patient(), practitioner(), _order("S-1"))
    asyncio.run(post_base(_door(sink, FakeInbound()), _body(bundle), "ehr"))
    assert [len(call) for call in sink.calls] == [1]


@dataclass
class FakeJournal:
    """Implements DedupeJournal in memory: a queued record is visible to lookups at once, written on flush."""

    queued: dict[tuple[str, str, str], tuple[InboundRecord, Future[str]]] = field(default_factory=dict)
    written: FakeInbound = field(default_factory=FakeInbound)

    async def find(self, door: str, sender: str, control_id: str) -> InboundRecord | None:
        key = (door, sender, control_id)
        return self.written.find(*key) or (self.queued[key][0] if key in self.queued else None)

    async def claim(self, entry: InboundEntry) -> InboundRecord | None:
        return await self.find(entry.door, entry.sender, entry.control_id)  # nothing races: a key held is recorded

    def release(self, door: str, sender: str, control_id: str) -> None:
        """Nothing is held between a claim and its record in memory."""

    def record_later(self, entry: InboundEntry) -> Future[str]:
        done: Future[str] = Future()
        record = InboundRecord(entry.record_id or "r", entry.outcome, entry.answer, entry.command_ids, entry.raw)
        self.queued.setdefault((entry.door, entry.sender, entry.control_id), (record, done))
        return done

    async def drain(self) -> None:
        for (door, sender, control_id), (record, done) in self.queued.items():
            self.written.records.setdefault((door, sender, control_id), record)
            done.set_result(record.id)
        self.queued.clear()


def test_with_the_process_journal_a_resend_is_answered_from_a_record_still_queued() -> None:
    sink, journal = FakeSink(), FakeJournal()
    body = _body(medication_request(identifier=[{"system": "urn:example:ehr", "value": "J-1"}]))
    door = FhirDoor(sink, FakeInbound(), NoPrescriptions(), journal)

    async def twice() -> tuple[Any, Any]:
        first = await create(door, body, "ehr", None)
        assert list(journal.queued) == [("fhir", "ehr", "urn:example:ehr|J-1")]  # not written yet
        return first, await create(door, body, "ehr", None)

    first, again = asyncio.run(twice())
    assert (first.status, again.status, len(sink.calls)) == (201, 200, 1)
    assert again.resource == first.resource and again.location == first.location
    assert first.body is not None and json.loads(first.body) == json.loads(
        journal.queued[("fhir", "ehr", "urn:example:ehr|J-1")][0].answer or b""
    )
    asyncio.run(door.drain())
    assert journal.queued == {} and list(journal.written.records) == [("fhir", "ehr", "urn:example:ehr|J-1")]


def test_with_the_process_journal_a_transaction_records_each_order_once() -> None:
    sink, journal = FakeSink(), FakeJournal()
    bundle = bundle_of("transaction", _order("JT-1"), patient(), practitioner(), _order("JT-2"))
    door = FhirDoor(sink, FakeInbound(), NoPrescriptions(), journal)
    answer = asyncio.run(post_base(door, _body(bundle), "ehr"))
    assert [len(call) for call in sink.calls] == [2]
    assert [e["response"]["status"] for e in answer.resource["entry"]] == [
        "201 Created",
        "201 Created",
        "200 OK",
        "201 Created",
    ]
    assert {c for _, _, c in journal.queued} == {"urn:example:ehr|JT-1", "urn:example:ehr|JT-2"}


@dataclass
class CountingRecorded:
    """Implements the door's RecordedOrders: counts the lookups it answers (nothing is recorded)."""

    asked: list[str] = field(default_factory=list)

    async def prescription_by_correlation(self, correlation_id: str) -> Prescription | None:
        self.asked.append(correlation_id)
        return None


class RefusingQueries(NoPrescriptions):
    """PrescriptionQueries that must not be asked for the lookup the door makes before publishing."""

    def prescription_by_correlation(self, correlation_id: str) -> Prescription | None:
        raise AssertionError("asked the queries instead of the batched lookup")


def test_with_the_batched_lookup_the_door_asks_it_before_publishing() -> None:
    sink, journal, recorded = FakeSink(), FakeJournal(), CountingRecorded()
    body = _body(medication_request(identifier=[{"system": "urn:example:ehr", "value": "K-1"}]))
    door = FhirDoor(sink, FakeInbound(), RefusingQueries(), journal, recorded)
    answer = asyncio.run(create(door, body, "ehr", "identifier=urn:example:ehr|K-1"))
    assert answer.status == 201 and len(sink.calls) == 1
    assert len(recorded.asked) == 2 and len(set(recorded.asked)) == 1  # the If-None-Exist search, then the order
