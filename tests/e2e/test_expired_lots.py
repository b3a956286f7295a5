"""Expired lots, checked by the worker too (issue 27, 5): a delivery of one published past the API is refused
with its reason, adds nothing and is audited as its sender's; a fill never picks one off the shelf."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import insert

from hub.domain.order_parts import Source
from hub.domain.workflow_commands import ReceiveInventory
from hub.messaging.envelope import Envelope
from hub.persistence.audit import AuditTrail
from hub.persistence.database import read_connection
from hub.persistence.stock import StockRepository
from hub.persistence.tables import inventory
from hub.persistence.users import UserStore
from hub.security.principals import user_principal
from tests.conftest import make_settings
from tests.support.pharmacy import Pharmacy, pharmacy
from tests.support.signing import publish_signed
from tests.support.staff import order, outcome, verbal

AMOXICILLIN = "00093005801"


def _technician_id(ph: Pharmacy) -> str:
    return next(user.id for user, _ in UserStore(ph.engine).list() if user.name == "tina.tech")


def _receive(ph: Pharmacy, lot: str, expiry: date) -> str:
    """A delivery published as the technician would through the API, but past its checks; its command id."""
    tech = next(user for user, _ in UserStore(ph.engine).list() if user.name == "tina.tech")
    command = ReceiveInventory(ndc=AMOXICILLIN, lot=lot, expiry=expiry, quantity=Decimal(100))
    envelope = Envelope.wrap(
        command,
        correlation_id=uuid.uuid4(),
        source=Source.API,
        actor=tech.id,
        principal=user_principal(tech.name, tech.role),
    )
    return publish_signed(ph.hub.settings, envelope)


def _lots(ph: Pharmacy) -> list[str]:
    with read_connection(ph.engine) as conn:
        return [item.lot for item in StockRepository(conn).lots(AMOXICILLIN)]


def test_an_expired_lot_published_past_the_api_is_refused_by_the_worker(amqp_url: str, sqlite_url: str) -> None:
    with pharmacy(make_settings(amqp_url, sqlite_url)) as ph:
        expired = outcome(ph, _receive(ph, "OLD-2020", date(2020, 1, 31)), "technician")
        in_date = outcome(ph, _receive(ph, "NEW-2030", date(2030, 1, 31)), "technician")
        lots = _lots(ph)
        audit = [
            (e.action, e.role, e.outcome, e.detail.get("lot"))
            for e in AuditTrail(ph.engine).query(actor=_technician_id(ph))
            if e.action == "receive-inventory"
        ]
    assert (expired["status"], expired["reason"]) == (
        "refused",
        "lot OLD-2020 expired on 2020-01-31: it may not go on the shelf",
    )
    assert in_date["status"] == "applied"
    assert lots == ["NEW-2030"]
    assert audit == [
        ("receive-inventory", "technician", "refused", "OLD-2020"),
        ("receive-inventory", "technician", "ok", "NEW-2030"),
    ]


def test_a_fill_takes_the_lot_in_date_never_the_expired_one_that_expires_first(amqp_url: str, sqlite_url: str) -> None:
    with pharmacy(make_settings(amqp_url, sqlite_url)) as ph:
        with ph.engine.begin() as conn:  # on the shelf from before it expired: no door lets one in now
            conn.execute(
                insert(inventory),
                [
                    {
                        "ndc": AMOXICILLIN,
                        "lot": "WENT-OFF",
                        "expiry": date.today() - timedelta(days=1),
                        "on_hand": 500,
                        "reserved": 0,
                    },
                    {"ndc": AMOXICILLIN, "lot": "GOOD", "expiry": date(2031, 1, 31), "on_hand": 500, "reserved": 0},
                ],
            )
        row = order(ph, verbal(drug={"ndc": AMOXICILLIN}), state="data_verification")
        approved = ph.client("pharmacist").post(
            f"/api/prescriptions/{row.id}/data-verification", json={"approve": True}
        )
        assert approved.status_code == 202, approved.text
        filled = ph.wait_state(row.id, "product_verification")
    fill = filled.document["fills"][-1]
    assert [p["lot"] for p in fill["picks"]] == ["GOOD"]
    assert fill["picks"][0]["quantity"] == fill["quantity"] and fill["owed"] == "0"
