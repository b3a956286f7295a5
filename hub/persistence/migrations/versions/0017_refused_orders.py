"""refused_orders: orders answered positively at the door that intake then refused

A second new order under a placer number its sender already has an order under was answered AA/CA, 201 or
Status 010 and then refused at intake with no trace but an audit line, and an event that told the placer
the order it holds here was refused. Each such refusal is now a row: the staff API lists them (newest
first, by time) and the FHIR read of the refused order finds it (by correlation id).

Revision ID: 0017
Revises: 0016
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "refused_orders",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("correlation_id", sa.String(length=36), nullable=False),
        sa.Column("owner", sa.String(length=200), nullable=True),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("placer_order_number", sa.String(length=100), nullable=False),
        sa.Column("placer_system", sa.String(length=200), nullable=True),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("held_by", sa.String(length=36), nullable=True),
        sa.Column("control_id", sa.String(length=200), nullable=True),
        sa.Column("raw_message_ref", sa.String(length=80), nullable=True),
        sa.Column("refused_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_refused_orders_refused_at", "refused_orders", ["refused_at"])
    op.create_index("ix_refused_orders_correlation", "refused_orders", ["correlation_id"])


def downgrade() -> None:
    op.drop_index("ix_refused_orders_correlation", "refused_orders")
    op.drop_index("ix_refused_orders_refused_at", "refused_orders")
    op.drop_table("refused_orders")
