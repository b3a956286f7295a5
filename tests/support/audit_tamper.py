"""Editing the audit trail as an insider who owns the table would: past PostgreSQL's append-only trigger."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, Engine


@contextmanager
def owner_edits(engine: Engine) -> Iterator[Connection]:
    """A transaction in which the audit_log triggers are off (PostgreSQL; the owner may do this, the hub's
    role may not), on again when it ends."""
    with engine.begin() as conn:
        postgres = conn.dialect.name == "postgresql"
        if postgres:
            conn.exec_driver_sql("ALTER TABLE audit_log DISABLE TRIGGER USER")
        yield conn
        if postgres:
            conn.exec_driver_sql("ALTER TABLE audit_log ENABLE TRIGGER USER")
