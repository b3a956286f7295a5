"""The FHIR door's lookup before each publish: batched, the aggregate read only when found, outages as 503."""

from __future__ import annotations

import asyncio
import time
import uuid

import pytest
from sqlalchemy import Engine

from hub.domain.states import RxState
from hub.entrypoints.http.known_orders import KnownOrders
from hub.errors import DatabaseUnavailable
from hub.persistence.database import create_schema, make_engine
from hub.persistence.prescriptions import PrescriptionRepository, PrescriptionRow
from hub.persistence.queries import SqlPrescriptionQueries
from tests.unit.domain.builders import at_state


@pytest.fixture
def engine(database_url: str) -> Engine:
    engine = make_engine(database_url)
    create_schema(engine)
    return engine


def _add(engine: Engine) -> str:
    rx = at_state(RxState.DATA_VERIFICATION).model_copy(update={"prescription_id": str(uuid.uuid4())})
    correlation = str(uuid.uuid4())
    with engine.begin() as conn:
        PrescriptionRepository(conn).add(
            PrescriptionRow(
                rx.prescription_id,
                correlation,
                f"R{uuid.uuid4().hex[:8]}",
                "P1",
                None,
                "fhir",
                rx.state.value,
                rx.setting.value,
                rx.model_dump_json(),
                1,
            )
        )
    return correlation


def test_lookups_waiting_together_are_answered_and_a_found_order_is_read_whole(engine: Engine) -> None:
    known_id = _add(engine)
    known = KnownOrders(engine, SqlPrescriptionQueries(engine))

    async def many() -> list[object]:
        ids = [str(uuid.uuid4()) for _ in range(40)] + [known_id]
        return list(await asyncio.gather(*(known.prescription_by_correlation(i) for i in ids)))

    sent: list[int] = []
    original = known._send

    def counting_send(loop: asyncio.AbstractEventLoop) -> None:
        sent.append(len(known._waiting))
        original(loop)

    known._send = counting_send  # type: ignore[method-assign]
    found = asyncio.run(many())
    assert sent == [41]  # asked in one turn of the loop: one batch to the thread
    assert found[:40] == [None] * 40
    rx = found[40]
    assert rx is not None and getattr(rx, "state", None) == RxState.DATA_VERIFICATION


def test_the_connection_goes_back_when_idle_and_comes_back(engine: Engine) -> None:
    known = KnownOrders(engine, SqlPrescriptionQueries(engine), idle_s=0.05)
    assert asyncio.run(known.recorded(str(uuid.uuid4()))) is False
    deadline = time.monotonic() + 10
    while known._lane._conn is not None and time.monotonic() < deadline:
        time.sleep(0.02)
    assert known._lane._conn is None
    assert asyncio.run(known.recorded(_add(engine))) is True
    known.close(5)


def test_a_database_that_is_gone_is_unavailable_not_an_error(tmp_path: object) -> None:
    engine = make_engine("postgresql+psycopg://postgres@127.0.0.1:1/none?connect_timeout=1")
    known = KnownOrders(engine, SqlPrescriptionQueries(engine))
    with pytest.raises(DatabaseUnavailable):
        asyncio.run(known.prescription_by_correlation(str(uuid.uuid4())))


def test_a_stale_connection_is_replaced_once(engine: Engine) -> None:
    known = KnownOrders(engine, SqlPrescriptionQueries(engine))
    assert asyncio.run(known.recorded(str(uuid.uuid4()))) is False
    real_connect = engine.connect
    opened: list[object] = []

    def counting_connect() -> object:
        opened.append(1)
        return real_connect()

    # the lane's connection breaks under it (a restarted database): the next lookup reconnects and answers
    held = known._lane._conn
    assert held is not None
    dbapi = held.connection.dbapi_connection
    assert dbapi is not None
    dbapi.close()
    try:
        engine.connect = counting_connect  # type: ignore[method-assign]
        assert asyncio.run(known.recorded(str(uuid.uuid4()))) is False
    finally:
        engine.connect = real_connect  # type: ignore[method-assign]
    assert opened == [1]
