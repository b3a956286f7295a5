"""A claim timeout and the reversal after it are each one event id, whichever message (a duplicated payer answer,
a second sweeper pass) brings the change about: subscribers dedupe on the id."""

from __future__ import annotations

import json
import uuid

from sqlalchemy import select

from hub.domain.commands import Command, RecordClaimResponse
from hub.domain.order_parts import Setting, Source
from hub.domain.workflow_commands import SendClaim
from hub.domain.workflow_events import ClaimReversed
from hub.entrypoints.runtime import STEP_HANDLERS, workflow_context
from hub.messaging.envelope import Envelope
from hub.persistence.database import create_schema, make_engine
from hub.persistence.prescriptions import PrescriptionRepository
from hub.persistence.tables import outbox
from hub.persistence.unit_of_work import unit_of_work
from hub.service.bus import MessageBus
from hub.service.workflow.claim_steps import exchange_id
from hub.service.workflow.effects import state_change
from tests.conftest import make_settings
from tests.integration.test_redelivery import CORRELATION, order_for_tests


def _deliver(bus: MessageBus, command: Command) -> None:
    """Each delivery under its own message id: a duplicate the broker cannot tell from the first."""
    bus.handle(Envelope.wrap(command, correlation_id=CORRELATION, source=Source.HL7, message_id=uuid.uuid4()))


def _events(bus: MessageBus, name: str) -> list[tuple[str, dict[str, object]]]:
    with bus.engine.connect() as conn:
        rows = conn.execute(select(outbox.c.id, outbox.c.body).where(outbox.c.routing_key == name)).all()
    return [(row.id, json.loads(row.body)["data"]) for row in rows]


def test_a_timeout_and_its_reversal_answered_twice_are_one_event_id_each(database_url: str, amqp_url: str) -> None:
    settings = make_settings(amqp_url, database_url, default_bin="999001")
    engine = make_engine(database_url)
    create_schema(engine)
    ctx = workflow_context(settings)
    intake = MessageBus(engine, STEP_HANDLERS["intake"](ctx), consumer="intake")
    claim = MessageBus(engine, STEP_HANDLERS["claim"](ctx), consumer="claim")
    answers = MessageBus(engine, STEP_HANDLERS["claim-responses"](ctx), consumer="claim-responses")
    _deliver(intake, order_for_tests())
    with engine.connect() as conn:
        pid = PrescriptionRepository(conn).in_states(["claim_pending"])[0].id
    _deliver(claim, SendClaim(prescription_id=pid, fill_number=0, attempt=1))
    b1 = exchange_id(pid, 0, 1, "B1")
    timed_out = RecordClaimResponse(  # what a sweeper pass finds (its ledger cannot see the broker's confirm here)
        exchange_id=b1, prescription_id=pid, fill_number=0, attempt=1, transaction="B1", status="timeout"
    )
    for _ in range(2):  # two sweeper passes
        _deliver(answers, timed_out)
    _deliver(claim, SendClaim(prescription_id=pid, fill_number=0, attempt=1, transaction="B2"))
    approved = RecordClaimResponse(
        exchange_id=exchange_id(pid, 0, 1, "B2"),
        prescription_id=pid,
        fill_number=0,
        attempt=1,
        transaction="B2",
        status="A",
    )
    for _ in range(2):  # the payer's answer, duplicated
        _deliver(answers, approved)
    unknown, reversed_ = _events(claim, "claim.status_unknown"), _events(claim, "claim.reversed")
    assert len(unknown) == 1 and len(reversed_) == 1, (unknown, reversed_)
    assert reversed_[0][1]["attempt"] == 1 and reversed_[0][1]["reason"] == "status_unknown"
    resubmitted = [data["attempt"] for _, data in _events(claim, "claim.submitted")]
    assert resubmitted == [1, 2], "resubmitted once"
    engine.dispose()


def test_one_change_added_by_two_messages_is_one_outbox_row(database_url: str, amqp_url: str) -> None:
    """What a redelivery under a new id, or a second worker racing the first, would write: the same row."""
    engine = make_engine(database_url)
    create_schema(engine)
    event = ClaimReversed(
        prescription_id="rx-1",
        rx_number="1000001",
        fill_number=0,
        placer_order_number="P-1",
        setting=Setting.OUTPATIENT,
        state="claim_rejected",
        attempt=1,
    )
    ids = []
    for _ in range(2):
        cause = Envelope.wrap(
            SendClaim(prescription_id="rx-1", fill_number=0, attempt=1),
            correlation_id=CORRELATION,
            source=Source.HUB,
            message_id=uuid.uuid4(),
        )
        with unit_of_work(engine, causation=cause) as uow:
            ids.append(uow.add_event(event, correlation_id=CORRELATION, change=state_change(event)))
    assert ids[0] == ids[1]
    with engine.connect() as conn:
        assert len(conn.execute(select(outbox.c.id).where(outbox.c.routing_key == "claim.reversed")).all()) == 1
    engine.dispose()
