"""Alembic migrations build exactly the schema the code expects, on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from hub.persistence.database import create_schema, make_engine
from hub.persistence.tables import metadata


def test_migrations_match_the_tables_and_rerun_harmlessly(database_url: str) -> None:
    engine = make_engine(database_url)
    create_schema(engine)
    create_schema(engine)  # every process runs it at start-up
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    engine.dispose()
    assert diff == []
