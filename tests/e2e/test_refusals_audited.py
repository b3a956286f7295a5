"""Issue 31, part 3, with the workers running: refusals are in the audit trail with their full reason.

The worker's refusal of a pharmacist's approval without a licence (published past the API's own check, signed
like the hub's), and the domain's other refusals, are audited with who, which command and why.
"""

from __future__ import annotations

import uuid

import pytest

from hub.config import Settings
from hub.domain.order_parts import Source
from hub.domain.workflow_commands import RecordVerification
from hub.messaging.envelope import Envelope
from hub.persistence.audit import AuditTrail
from hub.persistence.users import UserStore
from hub.security.principals import user_principal
from tests.conftest import make_settings
from tests.support.pharmacy import pharmacy
from tests.support.signing import publish_signed
from tests.support.staff import VERBAL, order, settled


@pytest.fixture
def cash_only(amqp_url: str, sqlite_url: str) -> Settings:
    return make_settings(amqp_url, sqlite_url)


def test_the_workers_refusal_of_an_unlicensed_approval_is_audited_with_its_reason(cash_only: Settings) -> None:
    with pharmacy(cash_only) as ph:
        unlicensed, token = UserStore(ph.engine).add("una.unlicensed", "pharmacist")
        row = order(ph, VERBAL, state="data_verification")
        envelope = Envelope.wrap(
            RecordVerification(prescription_id=row.id, stage="data", approve=True),
            correlation_id=uuid.UUID(row.correlation_id),
            source=Source.API,
            actor=unlicensed.id,
            principal=user_principal(unlicensed.name, unlicensed.role),
        )
        command_id = publish_signed(ph.hub.settings, envelope)
        una = ph.client("pharmacist")
        una.headers["Authorization"] = f"Bearer {token}"
        assert settled(una, command_id)["status"] == "refused"
        # written in the transaction of the outcome just read
        entries = [e for e in AuditTrail(ph.engine).query(actor="una.unlicensed") if e.outcome == "forbidden"]
    (entry,) = entries
    assert entry.role == "pharmacist" and entry.prescription_id == row.id
    assert entry.action == f"apply {envelope.type}"
    assert "licence" in entry.detail["reason"] and entry.detail["command_id"] == command_id
