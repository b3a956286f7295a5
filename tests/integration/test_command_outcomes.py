"""A staff command's outcome over the real HTTP app, its worker run by hand: pending from the 202 on, then
applied or refused in the worker's transaction, or dead-lettered; the worker's word stands whatever order
the writes come in. SQLite and PostgreSQL (the writes are upserts, one per dialect)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import Engine

from hub.entrypoints.runtime import STEP_HANDLERS, workflow_context
from hub.messaging.envelope import Envelope
from hub.persistence import command_outcomes
from hub.persistence.command_outcomes import DeadLetterOutcomes
from hub.service.bus import MessageBus
from tests.conftest import make_settings
from tests.security.http_app import App, http_app
from tests.support.staff import VERBAL

DELIVERY = {"ndc": "00378020801", "lot": "LOT-1", "expiry": "2030-01-31", "quantity": "100"}


@dataclass
class Hub:
    app: App
    workers: dict[str, MessageBus]

    @property
    def engine(self) -> Engine:
        return self.app.engine

    def post(self, role: str, path: str, body: dict[str, Any] | None = None) -> tuple[str, Envelope]:
        """A staff action answered 202: its command id and the envelope the API published."""
        answer = self.app.client.post(path, json=body, headers=self.app.as_role(role))
        assert answer.status_code == 202, answer.text
        return answer.json()["command_id"], self.app.sink.envelopes[-1]

    def status(self, command_id: str, role: str) -> tuple[int, dict[str, Any]]:
        answer = self.app.client.get(f"/api/commands/{command_id}", headers=self.app.as_role(role))
        return answer.status_code, answer.json()

    def apply(self, step: str, envelope: Envelope) -> None:
        self.workers[step].handle(envelope)


@pytest.fixture
def hub(database_url: str, amqp_url: str) -> Iterator[Hub]:
    settings = make_settings(amqp_url, database_url, auth_failure_limit=100_000)
    with http_app(settings) as app:
        engine = app.engine
        context = workflow_context(settings)
        yield Hub(
            app, {step: MessageBus(engine, STEP_HANDLERS[step](context), consumer=step) for step in ("intake", "fill")}
        )


def test_pending_until_the_worker_applies_it_for_its_sender_and_admins_only(hub: Hub) -> None:
    command_id, envelope = hub.post("technician", "/api/inventory", DELIVERY)
    pending = hub.status(command_id, "technician")
    others = [hub.status(command_id, "pharmacist")[0], hub.status("no-such-command", "technician")[0]]
    hub.apply("fill", envelope)
    applied = hub.status(command_id, "technician")
    by_admin = hub.status(command_id, "admin")
    with hub.engine.begin() as conn:  # the API's pending write, late: it leaves the worker's word
        command_outcomes.write(conn, [command_outcomes.outcome_row(envelope, "pending")], verdict=False)
    assert (pending[0], pending[1]["status"], pending[1]["command"]) == (200, "pending", "ReceiveInventory")
    assert others == [404, 404]
    assert applied[1]["status"] == "applied" and applied[1]["reason"] is None
    assert by_admin == applied == hub.status(command_id, "technician")


def test_a_verbal_order_names_its_prescription_and_a_second_cancel_is_refused_with_the_reason(hub: Hub) -> None:
    command_id, envelope = hub.post("pharmacist", "/api/verbal-orders", VERBAL)
    assert envelope.source.value == "verbal" and envelope.command().taken_by == envelope.actor  # type: ignore[attr-defined]
    assert hub.status(command_id, "pharmacist")[1]["prescription_id"] is None
    hub.apply("intake", envelope)
    made = hub.status(command_id, "pharmacist")[1]
    assert made["status"] == "applied" and made["prescription_id"] and made["rx_number"]
    # two technicians cancel at the same moment: both accepted (it was open), the second refused by the worker
    first = hub.post("technician", f"/api/prescriptions/{made['prescription_id']}/cancel", {"reason": "moved"})
    second = hub.post("technician", f"/api/prescriptions/{made['prescription_id']}/cancel", {"reason": "twice"})
    hub.apply("intake", first[1])
    hub.apply("intake", second[1])
    assert hub.status(first[0], "technician")[1]["status"] == "applied"
    refused = hub.status(second[0], "technician")[1]
    assert refused["status"] == "refused" and refused["rx_number"] == made["rx_number"]
    assert refused["reason"] == f"Rx {made['rx_number']} is already closed (cancelled: moved)"
    late = hub.app.client.post(
        f"/api/prescriptions/{made['prescription_id']}/cancel", json={}, headers=hub.app.as_role("technician")
    )
    assert late.status_code == 409 and late.json()["detail"]["state"] == "cancelled"


def test_a_dead_letter_is_recorded_and_a_replay_that_applies_it_has_the_last_word(hub: Hub) -> None:
    command_id, envelope = hub.post("technician", "/api/inventory", DELIVERY)
    DeadLetterOutcomes(hub.engine).dead_lettered(envelope, refused=False, reason="transient: payer down")
    dead = hub.status(command_id, "technician")[1]
    hub.apply("fill", envelope)  # an operator replayed it
    assert (dead["status"], dead["reason"]) == ("dead-lettered", "transient: payer down")
    assert hub.status(command_id, "technician")[1]["status"] == "applied"
    door_order = envelope.model_copy(update={"actor": None, "message_id": uuid.uuid4()})
    DeadLetterOutcomes(hub.engine).dead_lettered(door_order, refused=True, reason="not a staff command")
    assert hub.status(str(door_order.message_id), "admin")[0] == 404
