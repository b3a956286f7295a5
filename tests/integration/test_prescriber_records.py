"""Prescriber records: found again by NPI, DEA or a system's identifier; one known only by name never merged."""

from __future__ import annotations

from sqlalchemy import Engine, func, select

from hub.domain.order_parts import Identifier, PrescriberInfo
from hub.persistence.parties import PartyRepository
from hub.persistence.tables import prescribers


def _record(engine: Engine, info: PrescriberInfo) -> str:
    with engine.begin() as conn:
        return PartyRepository(conn).prescriber_for(info).prescriber_id


def test_the_same_prescriber_is_one_record_however_the_orders_name_them(engine: Engine) -> None:
    local = Identifier(value="D-77", system="urn:ehr-north:staff")
    by_id = [_record(engine, PrescriberInfo(family_name="Smith", identifiers=(local,))) for _ in range(3)]
    by_dea = [_record(engine, PrescriberInfo(family_name="Smith", dea="AS1234563")) for _ in range(3)]
    assert len(set(by_id)) == 1 and len(set(by_dea)) == 1 and by_id[0] != by_dea[0]
    by_name = {_record(engine, PrescriberInfo(family_name="Smith", given_name="Jo")) for _ in range(2)}
    assert len(by_name) == 2, "a name alone is never taken for a known prescriber"
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(prescribers)).scalar_one() == 4
