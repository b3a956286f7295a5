"""Candidate queries of the FHIR searches on SQLite and PostgreSQL: narrowed by owner, patient, placer number
and order id; patients by owner, identifier, family-name prefix (LIKE characters taken literally) and birth
date; oldest first, a page from an offset."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import Engine, insert

from hub.domain.order_parts import Identifier, PatientInfo
from hub.domain.parties import Patient
from hub.domain.states import RxState
from hub.persistence.database import create_schema, make_engine
from hub.persistence.prescriptions import PrescriptionRepository, PrescriptionRow
from hub.persistence.queries import SqlPrescriptionQueries
from hub.persistence.tables import patient_identifiers, patients
from hub.service.record_criteria import OrderCriteria, PatientCriteria
from tests.unit.domain.builders import at_state

START = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture
def engine(database_url: str) -> Engine:
    engine = make_engine(database_url)
    create_schema(engine)
    return engine


def _patient(engine: Engine, pid: str, family: str, born: date, mrn: str, n: int, merged: str | None = None) -> None:
    info = PatientInfo(identifiers=(Identifier(value=mrn, system="urn:mrn"),), family_name=family, birth_date=born)
    with engine.begin() as conn:
        conn.execute(
            insert(patients),
            {
                "id": pid,
                "family_name": family.casefold(),
                "birth_date": born,
                "document": Patient.new(pid, info).model_dump(mode="json"),
                "created_at": START + timedelta(minutes=n),
                "merged_into": merged,
            },
        )
        conn.execute(insert(patient_identifiers), {"system": "urn:mrn", "value": mrn, "patient_id": pid})


def _order(engine: Engine, owner: str, patient_id: str, placer: str) -> tuple[str, str]:
    rx = at_state(RxState.DATA_VERIFICATION).model_copy(
        update={"prescription_id": str(uuid.uuid4()), "patient_id": patient_id}
    )
    correlation = str(uuid.uuid4())
    with engine.begin() as conn:
        PrescriptionRepository(conn).add(
            PrescriptionRow(
                rx.prescription_id,
                correlation,
                f"R{uuid.uuid4().hex[:8]}",
                placer,
                "urn:ehr",
                "fhir",
                rx.state.value,
                rx.setting.value,
                rx.model_dump_json(),
                1,
            ),
            patient_id=patient_id,
            owner=owner,
        )
    return rx.prescription_id, correlation


def test_orders_and_patients_are_narrowed_scoped_and_paged(engine: Engine) -> None:
    _patient(engine, "pa", "O_Brien%", date(1970, 1, 2), "M-1", 1)
    _patient(engine, "pb", "Obrien", date(1980, 1, 2), "M-2", 2)
    _patient(engine, "pc", "O_Brien%", date(1970, 1, 2), "M-3", 3, merged="pa")
    first = _order(engine, "feed:a", "pa", "P-1")
    second = _order(engine, "feed:a", "pb", "P-2")
    other = _order(engine, "feed:b", "pa", "P-1")
    queries = SqlPrescriptionQueries(engine)

    def orders(**criteria: object) -> list[str]:
        return [rx.prescription_id for rx in queries.orders_matching(OrderCriteria(**criteria))]  # type: ignore[arg-type]

    def found(**criteria: object) -> list[str]:
        return [p.patient_id for p in queries.patients_matching(PatientCriteria(**criteria))]  # type: ignore[arg-type]

    assert orders() == [first[0], second[0], other[0]]
    assert orders(owner="feed:a") == [first[0], second[0]]
    assert orders(owner="feed:a", limit=1, offset=1) == [second[0]]
    assert orders(placer_order_number="P-1") == [first[0], other[0]]
    assert orders(owner="feed:b", placer_order_number="P-2") == []
    assert orders(patient_id="pa", owner="feed:b") == [other[0]]
    assert orders(order_id=first[1]) == orders(order_id=first[0]) == [first[0]]

    assert found() == ["pa", "pb"]  # pc was merged into pa
    assert found(owner="feed:b") == ["pa"]
    assert found(family_prefix="o_b") == ["pa"]  # "_" is a letter here, not LIKE's any-character
    assert found(family_prefix="OBR") == ["pb"]
    assert found(identifier_value="M-2") == ["pb"] and found(identifier_value="M-2", owner="feed:b") == []
    assert found(birth_date=date(1970, 1, 2)) == ["pa"]
    assert found(limit=1, offset=1) == ["pb"]
