"""Work queues from remembered lines: a poll renders only the prescriptions that changed since the last one,
and answers exactly what rendering every row again would."""

from __future__ import annotations

import json
import uuid

import pytest
from sqlalchemy import Engine

from hub.domain.states import RxState
from hub.entrypoints.http.queue_lines import QueueItems, queue_item
from hub.persistence.database import create_schema, make_engine, read_connection
from hub.persistence.prescriptions import PrescriptionRepository, PrescriptionRow, load_aggregate
from tests.unit.domain.builders import at_state

STATES = [RxState.DATA_VERIFICATION.value]


@pytest.fixture
def engine(database_url: str) -> Engine:
    engine = make_engine(database_url)
    create_schema(engine)
    return engine


def _add(engine: Engine, n: int, state: RxState = RxState.DATA_VERIFICATION) -> list[PrescriptionRow]:
    rows = []
    with engine.begin() as conn:
        repo = PrescriptionRepository(conn)
        for i in range(n):
            rx = at_state(state).model_copy(
                update={"prescription_id": str(uuid.uuid4()), "rx_number": f"R{uuid.uuid4().hex[:8]}"}
            )
            row = PrescriptionRow(
                rx.prescription_id,
                str(uuid.uuid4()),
                rx.rx_number,
                f"P{i}",
                None,
                "hl7",
                rx.state.value,
                rx.setting.value,
                rx.model_dump_json(),
                1,
            )
            repo.add(row)
            rows.append(row)
    return rows


def _rendered_again(engine: Engine) -> list[bytes]:
    import json

    with read_connection(engine) as conn:
        rows = PrescriptionRepository(conn).in_states(STATES)
    return [
        json.dumps(
            queue_item(load_aggregate(r)).model_dump(mode="json"), ensure_ascii=False, separators=(",", ":")
        ).encode()
        for r in rows
    ]


def _poll(engine: Engine, lines: QueueItems) -> list[bytes]:
    with read_connection(engine) as conn:
        return lines.queue(conn, STATES)


def test_a_poll_renders_only_what_changed_and_answers_the_same(engine: Engine) -> None:
    rows = _add(engine, 30)  # more than a few: the first poll reads the whole queue at once
    _add(engine, 2, RxState.FILLING)
    lines = QueueItems()
    assert _poll(engine, lines) == _rendered_again(engine)
    assert len(lines._lines) == 30

    with engine.begin() as conn:
        repo = PrescriptionRepository(conn)
        changed = repo.get(rows[3].id)
        assert changed is not None
        changed.document_json = json.dumps({**changed.document, "rx_number": "CHANGED1"})
        repo.save(changed)  # version 2: rendered again
        gone = repo.get(rows[5].id)
        assert gone is not None
        gone.state = RxState.FILLING.value
        repo.save(gone)  # left the queue
    (new,) = _add(engine, 1)
    polled = _poll(engine, lines)
    assert polled == _rendered_again(engine)
    assert len(polled) == 30
    assert [line for line in polled if b"CHANGED1" in line] != []
    assert [line for line in polled if rows[5].id.encode() in line] == []
    assert [line for line in polled if new.id.encode() in line] != []


def test_lines_are_bounded(engine: Engine) -> None:
    rows = _add(engine, 5)
    lines = QueueItems(max_entries=2)
    for row in rows:
        lines.line(row)
    assert list(lines._lines) == [(r.id, 1, r.state) for r in rows[3:]]
