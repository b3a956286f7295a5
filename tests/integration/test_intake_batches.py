"""A batch of new orders matches its patients as the same orders taken one at a time would.

Intake reads the candidates of a whole batch in one statement and holds its new patients and prescriptions
back to the end of the transaction (hub.persistence.parties.read_patients_ahead, hub.persistence.deferred).
Orders of one batch may be about one patient: a later order must find the patient an earlier one created,
the identifier an earlier one added, and the prescription an earlier one stored (DUR).
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from sqlalchemy import Engine, event, select

from hub.domain.commands import ReceivePrescription
from hub.domain.order_parts import Identifier, PatientInfo, Source
from hub.entrypoints.runtime import STEP_HANDLERS, workflow_context
from hub.messaging.envelope import Envelope, order_correlation_id
from hub.persistence.database import create_schema, make_engine
from hub.persistence.tables import patient_identifiers, patients, prescriptions
from hub.service.bus import MessageBus
from tests.conftest import make_settings
from tests.integration.test_redelivery import order_for_tests


def _mrn(value: str, system: str = "HOSP") -> Identifier:
    return Identifier(value=value, system=system, type_code="MR")


def _order(tag: str, n: str, *, ids: tuple[Identifier, ...] = (), family: str, born: str) -> Envelope:
    placer = f"{tag}-{n}"
    order = order_for_tests().model_copy(
        update={
            "placer_order_number": placer,
            "patient": PatientInfo(
                identifiers=ids,
                family_name=f"{family}{tag}",
                given_name="Ann",
                birth_date=date.fromisoformat(born),
                sex="F",
            ),
        }
    )
    assert isinstance(order, ReceivePrescription)
    return Envelope.wrap(
        order, correlation_id=order_correlation_id("EHR", placer), source=Source.HL7, message_id=uuid.uuid4()
    )


def _before(tag: str) -> list[Envelope]:
    """Two patients on file before the batch, P with an amoxicillin prescription, Q with one too."""
    return [
        _order(tag, "p0", ids=(_mrn(f"{tag}-P"), _mrn(f"{tag}-P3", "CLINIC")), family="Pat", born="1960-02-02"),
        _order(tag, "q0", ids=(_mrn(f"{tag}-Q"),), family="Que", born="1961-03-03"),
    ]


def _batch(tag: str) -> list[Envelope]:
    """Orders whose patients depend on what earlier orders of the same batch did."""
    return [
        _order(tag, "a", ids=(_mrn(f"{tag}-X"),), family="Xan", born="1970-01-01"),  # new patient X
        _order(tag, "b", ids=(_mrn(f"{tag}-X"),), family="Xan", born="1970-01-01"),  # X again
        # P, bringing a second identifier; then an order naming P by that identifier alone (and a new family
        # name, which agrees with P: same given name, birth date and sex)
        _order(tag, "c", ids=(_mrn(f"{tag}-P"), _mrn(f"{tag}-P2", "CLINIC")), family="Pat", born="1960-02-02"),
        _order(tag, "d", ids=(_mrn(f"{tag}-P2", "CLINIC"),), family="Other", born="1960-02-02"),
        # P by the identifier it had before: no key in common with the order that changed P above
        _order(tag, "k", ids=(_mrn(f"{tag}-P3", "CLINIC"),), family="Kay", born="1960-02-02"),
        # P's identifier with another birth date: a new patient M (an identity conflict), then M again
        _order(tag, "m", ids=(_mrn(f"{tag}-P"),), family="Mis", born="1999-09-09"),
        _order(tag, "n", ids=(_mrn(f"{tag}-P"),), family="Mis", born="1999-09-09"),
        _order(tag, "e", family="Xan", born="1970-01-01"),  # no identifier: X by name and birth date
        _order(tag, "f", ids=(_mrn(f"{tag}-Q"),), family="Que", born="1961-03-03"),  # Q twice: the second
        _order(tag, "g", ids=(_mrn(f"{tag}-Q"),), family="Que", born="1961-03-03"),  # sees the first (DUR)
        _order(tag, "h", ids=(_mrn(f"{tag}-Y"),), family="Yve", born="1980-05-05"),  # new patient Y
        # new patient Z with two identifiers, then Z by the second alone
        _order(tag, "i", ids=(_mrn(f"{tag}-Z1"), _mrn(f"{tag}-Z2", "CLINIC")), family="Zed", born="1990-06-06"),
        _order(tag, "j", ids=(_mrn(f"{tag}-Z2", "CLINIC"),), family="Zed", born="1990-06-06"),
    ]


def _outcome(engine: Engine, tag: str) -> dict[str, Any]:
    """Per order: which other orders share its patient, its state and its alerts; identifiers per patient."""
    with engine.connect() as conn:
        rows = conn.execute(
            select(
                prescriptions.c.placer_order_number,
                prescriptions.c.patient_id,
                prescriptions.c.state,
                prescriptions.c.document,
            ).where(prescriptions.c.placer_order_number.like(f"{tag}-%"))
        ).all()
        ids = conn.execute(
            select(patient_identifiers.c.patient_id, patient_identifiers.c.value).where(
                patient_identifiers.c.value.like(f"{tag}-%")
            )
        ).all()
        profiles = dict(conn.execute(select(patients.c.id, patients.c.document)).all())
    placers = {placer.removeprefix(f"{tag}-"): pid for placer, pid, _, _ in rows}
    group = {pid: "".join(sorted(p for p, q in placers.items() if q == pid)) for pid in placers.values()}
    assert set(group) <= set(profiles)
    return {
        "orders": {
            placer.removeprefix(f"{tag}-"): (
                group[pid],
                state,
                sorted(a["kind"] for a in json.loads(document).get("alerts", [])),
            )
            for placer, pid, state, document in rows
        },
        "identifiers": sorted((group[pid], value.removeprefix(f"{tag}-")) for pid, value in ids),
        # what each profile says of the patient (merged from every order for them)
        "profiles": sorted(
            (group[pid], sorted(i["value"].removeprefix(f"{tag}-") for i in profiles[pid]["info"]["identifiers"]))
            for pid in group
        ),
    }


@pytest.fixture
def intake(database_url: str, amqp_url: str) -> Iterator[tuple[Engine, MessageBus]]:
    settings = make_settings(amqp_url, database_url, default_bin="999001")
    engine = make_engine(database_url)
    create_schema(engine)
    yield engine, MessageBus(engine, STEP_HANDLERS["intake"](workflow_context(settings)), consumer="intake")
    engine.dispose()


def test_a_batch_finds_the_patients_its_own_orders_created_or_changed_as_one_at_a_time_would(
    intake: tuple[Engine, MessageBus], caplog: pytest.LogCaptureFixture
) -> None:
    engine, bus = intake
    for envelope in _before("one") + _before("all"):
        bus.handle(envelope)
    for envelope in _batch("one"):
        bus.handle(envelope)
    with caplog.at_level(logging.INFO, logger="hub.service.bus"):
        assert bus.handle_batch(_batch("all")) == [None] * len(_batch("all"))
    assert "failed" not in caplog.text, "the batch applied as a whole, not one by one after a failure"
    alone, together = _outcome(engine, "one"), _outcome(engine, "all")
    assert together == alone
    groups = {group for group, _, _ in together["orders"].values()}
    assert groups == {"abe", "cdkp0", "fgq0", "h", "ij", "mn"}, "each order matched to the patient it names"
    assert "duplicate_therapy" in together["orders"]["g"][2], "the second order for Q saw the first (DUR)"
    assert ("cdkp0", "P2") in together["identifiers"] and ("ij", "Z2") in together["identifiers"]
    assert ("cdkp0", ["P", "P2", "P3"]) in together["profiles"], "no order undid what an earlier one merged"


def test_a_batch_of_new_orders_costs_statements_per_batch_not_per_order(intake: tuple[Engine, MessageBus]) -> None:
    """Sixteen new patients: their candidates read together, their rows written together at the end."""
    engine, bus = intake
    statements: list[str] = []

    def listen(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(statement)

    orders = [_order("many", str(n), ids=(_mrn(f"many-{n}"),), family=f"Fam{n}", born="1975-01-01") for n in range(16)]
    event.listen(engine, "before_cursor_execute", listen)
    try:
        assert bus.handle_batch(orders) == [None] * 16
    finally:
        event.remove(engine, "before_cursor_execute", listen)
    touching = [s for s in statements if "patients" in s or "INTO prescriptions" in s]
    # one read of the candidates, the patients (with their identifiers) and the prescriptions written once each
    assert len(touching) <= 4, touching
    if engine.dialect.name == "postgresql":  # SQLite draws each Rx number from its counter row
        assert len(statements) <= 12, statements
    with engine.connect() as conn:
        stored = conn.execute(select(prescriptions.c.placer_order_number, prescriptions.c.patient_id)).all()
        owners = dict(conn.execute(select(patient_identifiers.c.value, patient_identifiers.c.patient_id)).all())
    assert len(stored) == 16 and len({pid for _, pid in stored}) == 16
    assert all(owners[f"many-{placer.removeprefix('many-')}"] == pid for placer, pid in stored)


def test_an_order_that_fails_in_a_batch_leaves_none_of_the_batch_held_back(intake: tuple[Engine, MessageBus]) -> None:
    """A batch that fails after new patients were held back writes nothing of them; each order is then taken
    alone (what the batch held back lived in its transaction's state: tests/integration/test_deferred_writes.py)."""
    engine, bus = intake
    good = _order("fail", "1", ids=(_mrn("fail-1"),), family="Good", born="1975-01-01")
    bad = Envelope.wrap(order_for_tests(), correlation_id=uuid.uuid4(), source=Source.HL7, message_id=uuid.uuid4())
    bad = bad.model_copy(update={"payload": {**bad.payload, "drug": {"text": "no code"}, "quantity": "x"}})
    outcomes = bus.handle_batch([good, bad])
    assert outcomes[0] is None and outcomes[1] is not None
    with engine.connect() as conn:
        assert conn.execute(select(prescriptions.c.placer_order_number)).scalars().all() == ["fail-1"]
        assert len(conn.execute(select(patients.c.id)).all()) == 1
