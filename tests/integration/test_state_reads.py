"""The staff API's state check: many asks answered by one lane, each with what is committed when it is read."""

from __future__ import annotations

import asyncio

import orjson
from sqlalchemy import Engine, update

from hub.persistence.database import create_schema
from hub.persistence.prescriptions import PrescriptionRepository, PrescriptionRow
from hub.persistence.state_reads import PrescriptionStates
from hub.persistence.tables import prescriptions


def _row(n: int, state: str) -> PrescriptionRow:
    document = orjson.dumps({"rx_number": f"RX{n}"}).decode()
    return PrescriptionRow(f"id-{n}", f"corr-{n}", f"RX{n}", f"PLC-{n}", "EHR", "hl7", state, "outpatient", document, 1)


def test_asks_arriving_together_each_get_their_own_prescription_and_unknown_ids_get_none(engine: Engine) -> None:
    create_schema(engine)
    with engine.begin() as conn:
        repo = PrescriptionRepository(conn)
        for n in range(30):
            repo.add(_row(n, "data_verification" if n % 2 else "product_verification"), patient_id="P")
    states = PrescriptionStates(engine)

    async def ask_all() -> list[tuple[str, str] | None]:
        ids = [f"id-{n}" for n in range(30)] + ["id-missing", "id-3"]
        return await asyncio.gather(*(states.state_of(i) for i in ids))

    try:
        answers = asyncio.run(ask_all())
    finally:
        states.close()
    expected = [("data_verification" if n % 2 else "product_verification", f"corr-{n}") for n in range(30)]
    assert answers == [*expected, None, ("data_verification", "corr-3")]


def test_a_state_committed_after_a_read_is_what_the_next_read_sees(engine: Engine) -> None:
    create_schema(engine)
    with engine.begin() as conn:
        PrescriptionRepository(conn).add(_row(1, "data_verification"), patient_id="P")
    states = PrescriptionStates(engine)
    try:
        assert asyncio.run(states.state_of("id-1")) == ("data_verification", "corr-1")
        with engine.begin() as conn:  # the worker approves it while the lane holds its connection
            conn.execute(update(prescriptions).where(prescriptions.c.id == "id-1").values(state="filling"))
        assert asyncio.run(states.state_of("id-1")) == ("filling", "corr-1")
    finally:
        states.close()
