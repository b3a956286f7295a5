"""claim_wire_log: what reached (or was kept from) a payer, and every answer heard, per claim transmission

The claim ledger (claim_transmissions) holds one row per exchange id with its first answer. This log adds one
row per event on the wire: transmitted to a switch, answered, no answer, a stale or duplicate transmission
dropped by the per-fill fence, and answers arriving after the first, so late answers are applied and the
ledger can be reconciled with what the payer said (issue #33).

Revision ID: 0022
Revises: 0021
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "claim_wire_log",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("exchange_id", sa.String(length=120), nullable=False),
        sa.Column("prescription_id", sa.String(length=36), nullable=False),
        sa.Column("fill_number", sa.Integer(), nullable=False),
        sa.Column("event", sa.String(length=20), nullable=False),
        sa.Column("message_id", sa.String(length=64), nullable=True),
        sa.Column("switch", sa.String(length=60), nullable=True),
        sa.Column("status", sa.String(length=12), nullable=True),
        sa.Column("detail", sa.String(length=200), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_claim_wire_log_fill", "claim_wire_log", ["prescription_id", "fill_number"], unique=False)
    op.create_index("ix_claim_wire_log_message", "claim_wire_log", ["message_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_claim_wire_log_message", table_name="claim_wire_log")
    op.drop_index("ix_claim_wire_log_fill", table_name="claim_wire_log")
    op.drop_table("claim_wire_log")
