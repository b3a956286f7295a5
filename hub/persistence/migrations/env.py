"""Alembic environment: migrations run on the connection the hub hands over (see database.migrate)."""

from __future__ import annotations

from alembic import context

from hub.persistence.tables import metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through hub.persistence.database.migrate")
context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
