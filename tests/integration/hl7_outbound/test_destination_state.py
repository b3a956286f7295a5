"""The destination state row in a real database: what operators read, stuck and stale senders, standbys."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from adapters.hl7.outbound.destination_state import STALE_AFTER_S, DestinationState, SenderState, status_from_row
from hub.persistence.database import create_schema, make_engine
from hub.persistence.outbound_state import DeliveredEvent, OutboundStateStore


@pytest.fixture
def store(database_url: str) -> OutboundStateStore:
    engine = make_engine(database_url)
    create_schema(engine)
    return OutboundStateStore(engine)


@pytest.mark.parametrize("database_url", ["sqlite", "postgres"], indirect=True)
def test_another_process_reads_what_the_sender_wrote(store: OutboundStateStore) -> None:
    sender = DestinationState("lab", store, stuck_after_s=60)
    happened = datetime.now(UTC) - timedelta(seconds=90)
    sender.begin("C1", happened)
    sender.link(True)
    sender.attempt()
    sender.error("AR: [207] busy")
    sender.attempt()

    row = store.load(["lab"])["lab"]
    status = status_from_row(row, "lab", backlog_ready=4, consumers=1, stuck_after_s=60)
    assert (status.state, status.connected, status.backlog, status.in_flight_control_id) == (
        SenderState.RETRYING,
        True,
        5,
        "C1",
    )
    assert status.attempts == 2 and status.sent == 2 and status.retried == 1
    assert status.oldest_age_s is not None and 89 <= status.oldest_age_s < 200
    assert status.last_error == "AR: [207] busy"

    later = datetime.now(UTC) + timedelta(seconds=11)
    assert status_from_row(row, "lab", 4, 1, stuck_after_s=10, now=later).state is SenderState.STUCK
    gone = datetime.now(UTC) + timedelta(seconds=STALE_AFTER_S + 1)
    stale = status_from_row(row, "lab", 4, 1, stuck_after_s=60000, now=gone)
    assert (stale.state, stale.connected, stale.in_flight_control_id, stale.backlog) == (
        SenderState.UNKNOWN,
        False,
        None,
        4,
    )

    sender.settle("delivered")
    done = status_from_row(store.load()["lab"], "lab", 0, 1, stuck_after_s=60)
    assert (done.state, done.backlog, done.oldest_age_s, done.delivered) == (SenderState.IDLE, 0, None, 1)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_standby_sender_never_writes_idle_over_the_one_delivering(store: OutboundStateStore) -> None:
    active, standby = DestinationState("ehr", store), DestinationState("ehr", store)
    active.begin("C7", datetime.now(UTC))
    standby.set(SenderState.IDLE)
    standby.heartbeat()
    assert store.load()["ehr"].in_flight_control_id == "C7"

    active.settle("delivered")
    standby.set(SenderState.IDLE)
    assert store.load()["ehr"].state == "idle"


@pytest.mark.parametrize("database_url", ["sqlite", "postgres"], indirect=True)
def test_the_newest_delivered_event_of_an_order_is_kept_per_destination(store: OutboundStateStore) -> None:
    at = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    store.record_delivered(
        "ehr", "p-1", DeliveredEvent(event_id="e1", event_type="prescription.received", event_time=at)
    )
    later = DeliveredEvent(event_id="e2", event_type="prescription.dispensed", event_time=at + timedelta(minutes=5))
    store.record_delivered("ehr", "p-1", later)
    assert store.delivered("ehr", "p-1") == later
    assert store.delivered("cabinet", "p-1") is None and store.delivered("ehr", "p-2") is None
