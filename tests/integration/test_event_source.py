"""Event ids are stable within a deployment and distinct across deployments (RXHUB_EVENT_SOURCE)."""

from __future__ import annotations

import uuid
from pathlib import Path

import orjson
from sqlalchemy import select

from hub.config import Settings
from hub.domain.order_parts import Source
from hub.entrypoints.runtime import STEP_HANDLERS, open_database, workflow_context
from hub.messaging.envelope import Envelope, order_correlation_id
from hub.persistence.tables import outbox
from hub.service.bus import MessageBus
from tests.conftest import make_settings
from tests.integration.test_redelivery import order_for_tests

#: one order, as a door would wrap it: the same message id whichever hub receives it
ENVELOPE = Envelope.wrap(
    order_for_tests(),
    correlation_id=order_correlation_id("EHR", "REDELIVER-1"),
    source=Source.HL7,
    message_id=uuid.UUID("0b3e69dc-997b-5e58-b0c0-e2cc9f57ad6f"),
)


def _events(settings: Settings) -> dict[str, tuple[str, str]]:
    """Apply the order on a hub opened as the composition root opens it; its events: type -> (id, source)."""
    engine = open_database(settings)
    try:
        MessageBus(engine, STEP_HANDLERS["intake"](workflow_context(settings)), consumer="intake").handle(ENVELOPE)
        with engine.connect() as conn:
            rows = conn.execute(select(outbox.c.id, outbox.c.body).where(outbox.c.target == "events")).all()
    finally:
        engine.dispose()
    documents = [orjson.loads(row.body) for row in rows]
    assert [d["id"] for d in documents] == [row.id for row in rows]
    return {d["type"]: (d["id"], d["source"]) for d in documents}


def test_two_deployments_never_share_an_event_id_and_one_keeps_its_own(amqp_url: str, tmp_path: Path) -> None:
    def hub(name: str, **overrides: object) -> Settings:
        return make_settings(amqp_url, f"sqlite:///{tmp_path / name}.sqlite3", **overrides)

    north = _events(hub("north", pharmacy_ncpdp_id="1111111"))
    south = _events(hub("south", pharmacy_ncpdp_id="2222222"))
    north_again = _events(hub("north-again", pharmacy_ncpdp_id="1111111"))
    explicit = _events(hub("explicit", pharmacy_ncpdp_id="1111111", event_source="urn:example:store-7"))

    assert "prescription.received" in north and north.keys() == south.keys() == explicit.keys()
    assert {source for _, source in north.values()} == {"urn:rxhub:ncpdp:1111111"}
    assert {source for _, source in south.values()} == {"urn:rxhub:ncpdp:2222222"}
    assert {source for _, source in explicit.values()} == {"urn:example:store-7"}
    for name in north:
        assert len({north[name][0], south[name][0], explicit[name][0]}) == 3, name
    assert north_again == north, "the same deployment derives the same ids: a republish is deduped"
