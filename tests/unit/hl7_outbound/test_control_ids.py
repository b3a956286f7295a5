"""Control ids: stable per event and destination, 20 characters, traceable to the event id."""

from __future__ import annotations

import uuid

from hypothesis import given
from hypothesis import strategies as st

from adapters.hl7.outbound.control_ids import CONTROL_ID_LENGTH, EVENT_PART, control_id_for


def test_a_uuid_event_id_gives_its_own_hex_prefix() -> None:
    event_id = "0f8fad5b-d9cb-469f-a165-70867728950e"
    assert control_id_for(event_id, "ehr").startswith("0F8FAD5BD9CB")


@given(st.uuids(), st.sampled_from(["ehr", "cabinet", "mar-4west"]))
def test_the_same_event_always_gets_the_same_id_at_one_destination(event_id: uuid.UUID, name: str) -> None:
    first = control_id_for(str(event_id), name)
    assert first == control_id_for(str(event_id), name)
    assert len(first) == CONTROL_ID_LENGTH
    assert first.startswith(event_id.hex.upper()[:EVENT_PART])


@given(st.uuids())
def test_two_destinations_never_share_an_events_control_id(event_id: uuid.UUID) -> None:
    assert control_id_for(str(event_id), "ehr") != control_id_for(str(event_id), "cabinet")


@given(st.text())
def test_any_event_id_gives_a_valid_st_value(event_id: str) -> None:
    value = control_id_for(event_id, "ehr")
    assert len(value) == CONTROL_ID_LENGTH
    assert set(value) <= set("0123456789ABCDEF")


def test_distinct_events_get_distinct_ids() -> None:
    ids = {control_id_for(str(uuid.uuid4()), "ehr") for _ in range(5000)}
    assert len(ids) == 5000
