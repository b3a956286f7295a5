"""A patient's coverages on file as an ordered list (issue 33, part 3), on SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import Engine

from hub.domain.order_parts import CoverageInfo
from hub.persistence.patient_coverages import PatientCoverages

PRIMARY = CoverageInfo(bin="999001", pcn="RXHUBSIM", group_id="GRP01", cardholder_id="PRI-1")
SECONDARY = CoverageInfo(bin="999003", pcn="SECPCN", cardholder_id="SEC-1", relationship="1")


def test_coverages_come_back_in_the_order_they_were_put_on_file(engine: Engine) -> None:
    with engine.begin() as conn:
        PatientCoverages(conn).replace("pat-1", [SECONDARY, PRIMARY])
        PatientCoverages(conn).replace("pat-2", [PRIMARY])
    with engine.begin() as conn:
        assert PatientCoverages(conn).ordered("pat-1") == (SECONDARY, PRIMARY)
        PatientCoverages(conn).replace("pat-1", [PRIMARY, SECONDARY])
    with engine.connect() as conn:
        store = PatientCoverages(conn)
        assert store.ordered("pat-1") == (PRIMARY, SECONDARY)
        assert store.ordered("pat-2") == (PRIMARY,)
        assert store.ordered("nobody") == ()


def test_an_empty_list_takes_them_off_file(engine: Engine) -> None:
    with engine.begin() as conn:
        PatientCoverages(conn).replace("pat-1", [PRIMARY, SECONDARY])
        PatientCoverages(conn).replace("pat-1", [])
        assert PatientCoverages(conn).ordered("pat-1") == ()
