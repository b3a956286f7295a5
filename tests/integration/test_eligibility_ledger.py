"""An E1 eligibility check in the claim ledger (issue 33, part 3): sent once however often its command is
delivered, and closed as ``timeout`` by the sweep when the payer never answers (an E1 bills nothing, so there
is nothing to reverse)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update

from hub.domain.eligibility import CheckEligibility
from hub.domain.order_parts import CoverageInfo
from hub.entrypoints.runtime import STEP_HANDLERS, workflow_context
from hub.persistence.database import create_schema, make_engine
from hub.persistence.tables import claim_transmissions, outbox
from hub.service.bus import MessageBus
from hub.service.workflow.claim_sweeper import ClaimSweeper
from tests.conftest import make_settings
from tests.integration.test_redelivery import _twice


def test_unanswered_eligibility_check_is_closed_as_timeout(sqlite_url: str, amqp_url: str) -> None:
    settings = make_settings(amqp_url, sqlite_url, default_bin="999001")
    engine = make_engine(sqlite_url)
    create_schema(engine)
    claim = MessageBus(engine, STEP_HANDLERS["claim"](workflow_context(settings)), consumer="claim")
    check_id = str(uuid.uuid4())
    _twice(
        claim,
        CheckEligibility(
            check_id=check_id, patient_id="p-unknown", coverage=CoverageInfo(bin="999001", cardholder_id="ZX1")
        ),
    )
    c = claim_transmissions.c
    with engine.connect() as conn:
        sent = conn.execute(select(c.transaction, c.purpose, c.answered_at)).all()
        e1s = conn.execute(select(outbox.c.message_type).where(outbox.c.message_type == "E1")).all()
    assert sent == [("E1", "eligibility", None)] and len(e1s) == 1  # a redelivered command sends nothing more
    with engine.begin() as conn:
        conn.execute(update(claim_transmissions).values(sent_at=datetime.now(UTC) - timedelta(minutes=5)))
    assert ClaimSweeper(engine, payer_timeout_ms=1000).sweep_once() == 0  # no timeout check: closed at once
    with engine.connect() as conn:
        closed = conn.execute(select(c.status, c.answered_at)).one()
    assert closed.status == "timeout" and closed.answered_at is not None
    engine.dispose()
