"""The lookups on tables that grow with every order search an index, however many keys they carry.

A row-value ``IN`` list of two or more keys is planned by SQLite as a scan of the whole table: with the doors'
lookups batched under load, every ACK got slower with every message stored (a run paced at 146 msg/s
stepped from 5 to 50 ms). The outbox by correlation and the claim ledger by unanswered transmission or by
prescription were scans too (65-85 ms at 400,000 outbox rows on PostgreSQL). These read the planner's own
answer to the statements the code runs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, event, insert

from hub.domain.order_parts import PrescriberInfo
from hub.entrypoints.http.admin_routes import db_figures
from hub.persistence import parties
from hub.persistence.claims import ClaimLedger
from hub.persistence.database import create_schema, make_engine
from hub.persistence.inbound import inbound_row
from hub.persistence.inbound_journal import _Lookup
from hub.persistence.message_log import MessageLog
from hub.persistence.prescriptions import PrescriptionRepository, PrescriptionRow
from hub.persistence.tables import inbound_messages
from hub.service.inbound_entry import InboundEntry
from hub.service.workflow.claim_sweeper import ClaimSweeper


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


def test_patient_candidates_by_several_identifiers_and_names_search_the_indexes(sqlite_url: str) -> None:
    """One order's candidates, or a batch's (several identifiers and several names at once)."""
    engine = make_engine(sqlite_url)
    compiled = parties._candidates_query(2, 2).compile(dialect=engine.dialect)
    engine.dispose()
    values = {
        "system_0": "MRN",
        "value_0": "1",
        "system_1": "SSN",
        "value_1": "2",
        "family_name_0": "doe",
        "birth_date_0": "1970-01-01",
        "family_name_1": "roe",
        "birth_date_1": "1971-01-01",
    }
    assert compiled.positiontup is not None
    plan = _plan(sqlite_url, str(compiled), tuple(values[name] for name in compiled.positiontup))
    assert not [step for step in plan if step.startswith("SCAN")], plan


@contextmanager
def _statements(engine: Engine) -> Iterator[list[tuple[str, Any]]]:
    """Every statement (SQL text, parameters) the engine runs meanwhile."""
    seen: list[tuple[str, Any]] = []

    def listen(_conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool) -> None:
        seen.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", listen)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", listen)


def _plans_of(sqlite_url: str, run: Callable[[Engine], object], table: str) -> list[list[str]]:
    """SQLite's plan of each statement on ``table`` that ``run`` executed."""
    engine = make_engine(sqlite_url)
    create_schema(engine)
    try:
        with _statements(engine) as seen:
            run(engine)
        with engine.connect() as conn:
            return [
                [row[3] for row in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql, params).all()]
                for sql, params in seen
                if f"FROM {table}" in sql and sql.lstrip().startswith("SELECT")
            ]
    finally:
        engine.dispose()


def _no_scan(plans: list[list[str]], table: str) -> None:
    assert plans, f"no statement on {table} was run"
    for plan in plans:
        assert not [step for step in plan if step.startswith(f"SCAN {table}")], plan
        assert any(step.startswith(f"SEARCH {table} USING") for step in plan), plan


def test_a_claims_timeout_check_finds_its_request_in_the_outbox_by_index(sqlite_url: str) -> None:
    def run(engine: Engine) -> None:
        with engine.connect() as conn:
            ClaimLedger(conn).never_left("rx-1:0:1:B1")

    _no_scan(_plans_of(sqlite_url, run, "outbox"), "outbox")


def test_the_claim_sweeper_and_the_prescription_view_search_the_ledger_by_index(sqlite_url: str) -> None:
    def run(engine: Engine) -> None:
        ClaimSweeper(engine, payer_timeout_ms=1000).sweep_once(datetime.now(UTC))
        with engine.connect() as conn:
            ClaimLedger(conn).for_prescription("rx-1")

    _no_scan(_plans_of(sqlite_url, run, "claim_transmissions"), "claim_transmissions")


def test_a_message_story_finds_the_orders_outbox_rows_by_index(sqlite_url: str) -> None:
    def run(engine: Engine) -> None:
        with engine.connect() as conn:
            _stored_order(conn)
            MessageLog(conn).story("inbound-1", with_raw=False)

    _no_scan(_plans_of(sqlite_url, run, "outbox"), "outbox")


def _stored_order(conn: Connection) -> None:
    """One inbound message and the prescription it created, so the story reaches the outbox."""
    values = inbound_row(
        InboundEntry(
            door="hl7",
            sender="EHR|NORTH",
            control_id="C1",
            message_type="RDE^O11",
            outcome="AA",
            raw=b"MSH|...",
            answer=b"MSA|AA|C1",
            command_ids=[],
            record_id="inbound-1",
        )
    )
    conn.execute(insert(inbound_messages), values)
    PrescriptionRepository(conn).add(
        PrescriptionRow("rx-1", "corr-1", "1000001", "PLAC-1", None, "hl7", "received", "retail", "{}", 1),
        raw_message_ref="hl7:inbound-1",
    )


def test_a_lookup_by_placer_order_number_with_or_without_its_system_searches_the_index(sqlite_url: str) -> None:
    def run(engine: Engine) -> None:
        with engine.connect() as conn:
            repo = PrescriptionRepository(conn)
            repo.by_placer(None, "PLAC-1")  # FHIR If-None-Exist: identifier=PLAC-1, staff search
            repo.by_placer("EHR|NORTH", "PLAC-1")

    _no_scan(_plans_of(sqlite_url, run, "prescriptions"), "prescriptions")


def test_an_order_without_the_prescribers_npi_finds_the_namesakes_by_index(sqlite_url: str) -> None:
    def run(engine: Engine) -> None:
        with engine.connect() as conn:
            parties.PartyRepository(conn).prescriber_for(PrescriberInfo(family_name="Smith", dea="AS1234563"))

    _no_scan(_plans_of(sqlite_url, run, "prescribers"), "prescribers")


def _plans_by_index(plans: list[list[str]], table: str) -> None:
    """Every statement reads ``table`` through an index and sorts nothing itself (for a whole-table count, a
    scan of a covering index is the best there is)."""
    assert plans, f"no statement on {table} was run"
    for plan in plans:
        reads = [step for step in plan if step.startswith((f"SCAN {table}", f"SEARCH {table}"))]
        assert reads and all("USING" in step and "INDEX" in step for step in reads), plan
        assert not [step for step in plan if "TEMP B-TREE" in step], plan


def test_the_dashboard_counts_read_covering_indexes(sqlite_url: str) -> None:
    def run(engine: Engine) -> None:
        db_figures(engine)

    for table in ("claim_transmissions", "prescriptions"):  # inbound_messages: see migration 0011
        plans = _plans_of(sqlite_url, run, table)
        _plans_by_index(plans, table)
        assert all(any("COVERING INDEX" in step for step in plan) for plan in plans), plans
