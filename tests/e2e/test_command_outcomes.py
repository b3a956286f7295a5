"""Issue 27, part 2, with the workers running: a command the API accepted but a worker refused or dead-lettered
says so, with the reason, at ``GET /api/commands/{id}`` for its sender (and admins, not other staff), and the
admin's dead-letter list names the Rx number of the prescription a dead letter is about.

The commands are published by hand (signed like the hub's), as the API would have refused them at once.
"""

from __future__ import annotations

import uuid

import pytest

from hub.config import Settings
from hub.domain.commands import Command, ReceivePrescription
from hub.domain.order_parts import DrugInfo, PatientInfo, PrescriberInfo, QuantityInfo, Source
from hub.domain.workflow_commands import RecordVerification, SelectProduct
from hub.messaging.envelope import Envelope, order_correlation_id
from hub.persistence.users import User, UserStore
from hub.security.principals import user_principal
from tests.conftest import make_settings
from tests.support.pharmacy import Pharmacy, pharmacy
from tests.support.signing import publish_signed
from tests.support.staff import VERBAL, order, outcome, settled, verbal

AMOXICILLIN = "00093005801"


@pytest.fixture
def cash_only(amqp_url: str, sqlite_url: str) -> Settings:
    return make_settings(amqp_url, sqlite_url)


def _user(ph: Pharmacy, name: str) -> User:
    return next(user for user, _ in UserStore(ph.engine).list() if user.name == name)


def _publish(ph: Pharmacy, user: User, command: Command, correlation_id: uuid.UUID, source: Source = Source.API) -> str:
    """Publish a staff command as ``user`` would through the API, past its checks; its command id."""
    settings = ph.hub.settings
    envelope = Envelope.wrap(
        command,
        correlation_id=correlation_id,
        source=source,
        actor=user.id,
        principal=user_principal(user.name, user.role),
    )
    return publish_signed(settings, envelope)


def test_refused_and_dead_lettered_commands_say_why_and_dead_letters_name_the_rx(cash_only: Settings) -> None:
    with pharmacy(cash_only) as ph:
        unlicensed, token = UserStore(ph.engine).add("una.unlicensed", "pharmacist")
        allergic = {**VERBAL["patient"], "allergies": [{"text": "Penicillin"}]}
        row = order(ph, verbal(patient=allergic, drug={"ndc": AMOXICILLIN}), state="data_verification")
        (alert,) = [a["alert_id"] for a in row.document["alerts"] if a["severity"] == "high"]
        correlation = uuid.UUID(row.correlation_id)
        approval = _publish(
            ph,
            _user(ph, "paul.pharm"),
            RecordVerification(prescription_id=row.id, stage="data", approve=True),
            correlation,
        )
        product = _publish(
            ph, _user(ph, "tina.tech"), SelectProduct(prescription_id=row.id, ndc="00000000000"), correlation
        )
        verbal_order = _publish(
            ph,
            unlicensed,
            ReceivePrescription(
                placer_order_number="VO-UNLICENSED",
                placer_system="verbal",
                taken_by=unlicensed.id,
                patient=PatientInfo(family_name="Synthetic", given_name="Eve"),
                prescriber=PrescriberInfo(family_name="Prescriber", npi="1234567893"),
                drug=DrugInfo(ndc=AMOXICILLIN),
                quantity=QuantityInfo(value=20),
                sig="one tid",
            ),
            order_correlation_id("verbal", "VO-UNLICENSED"),
            Source.VERBAL,
        )
        refused = outcome(ph, approval)
        dead = outcome(ph, product, "technician")
        una = ph.client("pharmacist")
        una.headers["Authorization"] = f"Bearer {token}"
        unlicensed_outcome = settled(una, verbal_order)
        not_theirs = [
            ph.client("technician").get(f"/api/commands/{approval}"),
            una.get(f"/api/commands/{product}"),
            una.get(f"/api/commands/{uuid.uuid4()}"),
        ]
        by_admin = ph.client("admin").get(f"/api/commands/{approval}")
        letters = ph.client("admin").get("/api/admin/dead-letters").json()
        still = ph.wait_state(row.id, "data_verification")
    assert (refused["status"], refused["rx_number"]) == ("refused", row.rx_number)
    assert refused["reason"] == f"override or resolve alerts {alert} before approving"
    assert (dead["status"], dead["reason"]) == ("dead-lettered", "NDC 00000000000 is not in the drug catalogue")
    assert unlicensed_outcome["status"] == "refused" and "licence" in unlicensed_outcome["reason"]
    assert unlicensed_outcome["prescription_id"] is None
    assert [r.status_code for r in not_theirs] == [404, 404, 404]
    assert by_admin.status_code == 200 and by_admin.json()["status"] == "refused"
    named = {letter["message_id"]: (letter["failure_kind"], letter["rx_number"]) for letter in letters}
    assert named == {
        approval: ("domain_rule", row.rx_number),
        product: ("validation", row.rx_number),
        verbal_order: ("domain_rule", None),
    }
    assert still.version == row.version
