"""Rx numbers from a sequence on PostgreSQL, continuing the counter row

The counter row had to be updated in a transaction of its own (an extra connection and commit per intake)
or be held locked until the intake committed (serialising every intake). ``nextval`` takes no lock that
outlives the call. SQLite keeps the counter row: its one writer lock is held by the intake anyway.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("CREATE SEQUENCE IF NOT EXISTS rx_number_seq START WITH 1000001")
    # the next value follows the last number the counter gave (the first is 1000001, as before)
    op.execute(
        "SELECT setval('rx_number_seq', GREATEST(1000000, COALESCE("
        "(SELECT value FROM counters WHERE name = 'rx_number'), 1000000)))"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    # hand the numbers already given back to the counter row, so it carries on after them
    op.execute(
        "INSERT INTO counters (name, value) SELECT 'rx_number', last_value FROM rx_number_seq "
        "ON CONFLICT (name) DO UPDATE SET value = GREATEST(counters.value, EXCLUDED.value)"
    )
    op.execute("DROP SEQUENCE IF EXISTS rx_number_seq")
