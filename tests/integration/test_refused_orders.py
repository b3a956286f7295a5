"""Intake's late refusal of a second order under a held placer number: recorded, announced, holder untouched.

Issue 26, part 5, on SQLite and PostgreSQL, through the intake step's own bus (alone and in a batch): the
refusal is a ``refused_orders`` row and an ``order.refused`` event quoting the sender's message (never a
``prescription.rejected`` about the order the hub holds), once however often the command is redelivered.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, select

from hub.domain.commands import ReceivePrescription
from hub.domain.order_parts import ReplyTo, Source
from hub.entrypoints.runtime import STEP_HANDLERS, workflow_context
from hub.messaging.envelope import Envelope, order_correlation_id
from hub.persistence.database import read_connection
from hub.persistence.refused_orders import RefusedOrders
from hub.persistence.tables import outbox, prescriptions
from hub.service.bus import MessageBus
from tests.conftest import make_settings
from tests.integration.test_redelivery import order_for_tests

OWNER = "hl7:EHR|HOSP"


def _order(placer: str, control_id: str, drug_text: str) -> Envelope:
    reply = ReplyTo(
        control_id=control_id, message_type="RDE", trigger_event="O11", version="2.5.1", application_ack_type="ER"
    )
    base = order_for_tests()
    order = base.model_copy(
        update={
            "placer_order_number": placer,
            "reply": reply,
            "raw_message_ref": f"hl7:{control_id}",
            "drug": base.drug.model_copy(update={"text": drug_text}),
        }
    )
    assert isinstance(order, ReceivePrescription)
    return Envelope.wrap(
        order,
        correlation_id=order_correlation_id("EHR", placer, owner=OWNER),
        source=Source.HL7,
        message_id=uuid.uuid4(),
        principal=OWNER,
    )


@pytest.fixture
def intake(engine: Engine, amqp_url: str, database_url: str) -> Iterator[MessageBus]:
    settings = make_settings(amqp_url, database_url, default_bin="999001")
    yield MessageBus(engine, STEP_HANDLERS["intake"](workflow_context(settings)), consumer="intake")


def _events(engine: Engine, correlation_id: uuid.UUID) -> list[dict[str, object]]:
    with read_connection(engine) as conn:
        bodies = (
            conn.execute(
                select(outbox.c.body).where(outbox.c.correlation_id == str(correlation_id)).order_by(outbox.c.seq)
            )
            .scalars()
            .all()
        )
    return [json.loads(body) for body in bodies]


@pytest.mark.parametrize("batched", [False, True])
def test_a_second_order_under_a_held_number_is_refused_once_and_announced(
    engine: Engine, intake: MessageBus, batched: bool
) -> None:
    placer = f"DUP-{uuid.uuid4().hex[:8]}"
    first, second = _order(placer, "MSG-1", "Amoxicillin 500 mg"), _order(placer, "MSG-2", "Lisinopril 10 mg")
    if batched:
        assert intake.handle_batch([first, second]) == [None, None]
    else:
        intake.handle(first)
        intake.handle(second)
    intake.handle(second)  # redelivered: applied once
    with read_connection(engine) as conn:
        held = conn.execute(
            select(prescriptions.c.id, prescriptions.c.state).where(prescriptions.c.placer_order_number == placer)
        ).all()
        refused = RefusedOrders(conn).of_order(str(first.correlation_id))
        assert RefusedOrders(conn).of_order(str(first.correlation_id), "feed:someone-else") == []
        newest = RefusedOrders(conn).newest(10)
    assert len(held) == 1 and held[0].state != "rejected", "the held order is untouched"
    [row] = refused
    assert (
        row.owner,
        row.source,
        row.placer_order_number,
        row.placer_system,
        row.code,
        row.held_by,
        row.control_id,
        row.raw_message_ref,
    ) == (OWNER, "hl7", placer, "EHR", "duplicate-order", held[0].id, "MSG-2", "hl7:MSG-2")
    assert f"placer number EHR|{placer} is already held by Rx" in row.reason
    assert newest[0].id == row.id
    types = [e["type"] for e in _events(engine, first.correlation_id)]
    assert "prescription.rejected" not in types and types.count("order.refused") == 1, types
    [announced] = [e for e in _events(engine, first.correlation_id) if e["type"] == "order.refused"]
    data = announced["data"]
    assert announced["subject"] == held[0].id
    assert (data["refusal_id"], data["reply"]["control_id"], data["drug"]["text"]) == (
        row.id,
        "MSG-2",
        "Lisinopril 10 mg",
    ), "the refused order, quoting its own message"
