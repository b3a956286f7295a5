"""Screening an order reads the patient's prescriptions that can still matter to it, not years of them."""

from __future__ import annotations

from datetime import date, timedelta

import orjson
from sqlalchemy import Engine, select, update

from hub.domain.states import RxState
from hub.persistence.database import create_schema
from hub.persistence.prescriptions import PrescriptionRepository, PrescriptionRow, load_aggregate, store_aggregate
from hub.persistence.tables import prescriptions
from tests.unit.domain.builders import NOW, TECHNICIAN, TODAY, reach


def _row(n: int, state: str, until: date | None) -> PrescriptionRow:
    document = orjson.dumps({"rx_number": f"RX{n}"}).decode()
    return PrescriptionRow(
        f"id-{n}", f"corr-{n}", f"RX{n}", f"PLC-{n}", "EHR", "hl7", state, "outpatient", document, 1, until
    )


def test_the_profile_skips_supplies_that_ran_out_and_keeps_what_is_open(engine: Engine) -> None:
    create_schema(engine)
    today = date(2026, 6, 1)
    with engine.begin() as conn:
        repo = PrescriptionRepository(conn)
        repo.add(_row(1, "dispensed", today - timedelta(days=1)), patient_id="P")  # ran out yesterday
        repo.add(_row(2, "dispensed", today), patient_id="P")  # runs out today
        repo.add(_row(3, "data_verification", None), patient_id="P")  # in progress
        repo.add(_row(4, "returned_to_stock", today - timedelta(days=300)), patient_id="P")
        repo.add(_row(5, "cancelled", None), patient_id="P")  # closed
        repo.add(_row(6, "dispensed", today + timedelta(days=20)), patient_id="Q")  # someone else's
        repo.add(_row(7, "dispensed", today + timedelta(days=20)), patient_id="P")  # the order being screened
    with engine.connect() as conn:
        profile = PrescriptionRepository(conn).profile_documents("P", today, besides="id-7")
    assert sorted(d["rx_number"] for d in profile) == ["RX2", "RX3"]


def test_a_stored_prescription_carries_its_day_and_keeps_it_when_read_and_saved(engine: Engine) -> None:
    create_schema(engine)
    rx = reach(RxState.DISPENSED)
    row = PrescriptionRow(
        rx.prescription_id,
        "corr-1",
        rx.rx_number,
        rx.placer_order_number,
        rx.placer_system,
        "hl7",
        "received",
        rx.setting.value,
        "{}",
        1,
    )
    store_aggregate(row, rx)
    assert row.on_profile_until == TODAY + timedelta(days=30)
    with engine.begin() as conn:
        PrescriptionRepository(conn).add(row, patient_id="P")
    with engine.begin() as conn:
        repo = PrescriptionRepository(conn)
        again = repo.get(rx.prescription_id)
        assert again is not None and again.on_profile_until == TODAY + timedelta(days=30)
        refill = load_aggregate(again)
        refill.request_refill(TECHNICIAN, NOW + timedelta(days=25))  # a fill under way: on the profile while open
        store_aggregate(again, refill)
        repo.save(again)
    with engine.connect() as conn:
        assert conn.execute(select(prescriptions.c.on_profile_until)).scalar_one() is None
        conn.execute(update(prescriptions).values(on_profile_until=None))  # a row stored before migration 0012
        assert len(PrescriptionRepository(conn).profile_documents("P", TODAY + timedelta(days=999))) == 1
