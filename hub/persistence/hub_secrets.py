"""Secrets the hub generates for itself, kept in the database every one of its processes shares."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Engine, Insert, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import OperationalError

from hub.errors import DatabaseUnavailable
from hub.persistence.tables import hub_secrets


def _insert_if_absent(dialect: str) -> Insert:
    ignore = pg_insert if dialect == "postgresql" else sqlite_insert
    return ignore(hub_secrets).on_conflict_do_nothing(index_elements=["name"])


def stored_secret(engine: Engine, name: str, make: Callable[[], str]) -> str:
    """The secret stored under ``name``, made by ``make`` and stored first when there is none.

    Processes starting together may each make one: the first insert wins, the others' is dropped by the
    conflict clause, and every process returns what the row holds, so they all end with the same value.
    """
    try:
        with engine.begin() as conn:
            conn.execute(_insert_if_absent(conn.dialect.name), {"name": name, "value": make()})
            return str(conn.execute(select(hub_secrets.c.value).where(hub_secrets.c.name == name)).scalar_one())
    except OperationalError as exc:
        raise DatabaseUnavailable(f"database unavailable reading the hub's secret {name!r}: {exc.orig!r}") from exc
