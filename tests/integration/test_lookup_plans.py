"""The lookups that run for every message use the unique indexes however many keys they carry.

A row-value ``IN`` list of two or more keys is planned by SQLite as a scan of the whole table: with the doors'
lookups batched under load, every ACK got slower with every message stored (a run paced at 146 msg/s
stepped from 5 to 50 ms). These read the planner's own answer.
"""

from __future__ import annotations

from hub.persistence import parties
from hub.persistence.database import create_schema, make_engine
from hub.persistence.inbound_journal import _Lookup


def _plan(sqlite_url: str, sql: str, params: tuple[str, ...]) -> list[str]:
    engine = make_engine(sqlite_url)
    create_schema(engine)
    try:
        with engine.connect() as conn:
            return [row[3] for row in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql, params).all()]
    finally:
        engine.dispose()


def test_the_dedupe_lookup_of_many_keys_searches_the_unique_index(sqlite_url: str) -> None:
    engine = make_engine(sqlite_url)
    sql = _Lookup.of(engine.dialect).sql(3)
    engine.dispose()
    plan = _plan(sqlite_url, sql, ("hl7", "EHR|NORTH", "C1") * 3)
    assert not [step for step in plan if step.startswith("SCAN")], plan
    assert sum("SEARCH inbound_messages USING INDEX" in step for step in plan) == 3, plan


def test_patient_candidates_by_several_identifiers_search_the_indexes(sqlite_url: str) -> None:
    engine = make_engine(sqlite_url)
    compiled = parties._candidates_query(2, True).compile(dialect=engine.dialect)
    engine.dispose()
    values = {"system_0": "MRN", "value_0": "1", "system_1": "SSN", "value_1": "2", "family_name": "doe",
              "birth_date": "1970-01-01"}
    assert compiled.positiontup is not None
    plan = _plan(sqlite_url, str(compiled), tuple(values[name] for name in compiled.positiontup))
    assert not [step for step in plan if step.startswith("SCAN")], plan
