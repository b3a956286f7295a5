"""The hub's fast uuid5 gives exactly the stdlib's ids: derived ids must not change across an upgrade, or a
message redelivered to the new version would be applied a second time."""

from __future__ import annotations

import uuid

from hypothesis import given
from hypothesis import strategies as st

from hub.messaging.cloudevents import event_id
from hub.messaging.envelope import RXHUB_NAMESPACE, derived_message_id, name_uuid, order_correlation_id


@given(st.text())
def test_name_uuid_is_uuid5_in_the_hub_namespace(name: str) -> None:
    made = name_uuid(name)
    assert made == uuid.uuid5(RXHUB_NAMESPACE, name)
    assert (made.version, made.variant) == (5, uuid.RFC_4122)


def test_ids_known_from_earlier_versions_are_unchanged() -> None:
    # printed by the code before name_uuid (uuid.uuid5)
    assert str(order_correlation_id("EHR", "PLAC-1")) == "8464527c-35fe-54b7-995a-66b3a7d6f3bf"
    assert str(derived_message_id("hl7", "EHR|GENHOSP", "C1|ab", 0)) == "123a131f-596d-52bb-806f-758843153f55"
    # event ids changed once, on purpose: the deployment's source joined the name so that two hubs fed the same
    # messages never share an id (before: "event|<causation>|<name>|<index>" gave 46619bf4-4fed-5084-87d7-d66a9db51ba8
    # here, for every hub); from now on this one is pinned like the others
    assert (
        event_id("urn:rxhub:ncpdp:9999991", "0b3e69dc-997b-5e58-b0c0-e2cc9f57ad6f", "prescription.updated", 3)
        == "00571bb1-2d12-578f-9ae7-5a32fb4dab28"
    )
    assert str(order_correlation_id(None, "X")) == "5f73d50e-94f1-590a-8df1-ff256b5e5724"


@given(st.text(min_size=1), st.text(min_size=1), st.uuids())
def test_two_sources_never_share_an_event_id(one: str, other: str, causation: uuid.UUID) -> None:
    if one == other:
        assert event_id(one, causation, "prescription.received", 0) == event_id(
            other, causation, "prescription.received", 0
        )
    else:
        assert event_id(one, causation, "prescription.received", 0) != event_id(
            other, causation, "prescription.received", 0
        )
