"""Control ids: stable per event, 20 characters, traceable to the event id."""

from __future__ import annotations

import uuid

from hypothesis import given
from hypothesis import strategies as st

from adapters.hl7.outbound.control_ids import CONTROL_ID_LENGTH, control_id_for


def test_a_uuid_event_id_gives_its_own_hex_prefix() -> None:
    event_id = "0f8fad5b-d9cb-469f-a165-70867728950e"
    assert control_id_for(event_id) == "0F8FAD5BD9CB469FA165"


@given(st.uuids())
def test_the_same_event_always_gets_the_same_id(event_id: uuid.UUID) -> None:
    first = control_id_for(str(event_id))
    assert first == control_id_for(str(event_id))
    assert len(first) == CONTROL_ID_LENGTH
    assert event_id.hex.upper().startswith(first)


@given(st.text())
def test_any_event_id_gives_a_valid_st_value(event_id: str) -> None:
    value = control_id_for(event_id)
    assert len(value) == CONTROL_ID_LENGTH
    assert set(value) <= set("0123456789ABCDEF")


def test_distinct_events_get_distinct_ids() -> None:
    ids = {control_id_for(str(uuid.uuid4())) for _ in range(5000)}
    assert len(ids) == 5000
