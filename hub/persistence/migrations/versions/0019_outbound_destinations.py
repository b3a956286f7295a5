"""outbound_destinations and outbound_order_progress: each HL7 destination's live state, shared

``rxhub outbound status``, /metrics and the admin dashboard showed nothing of a sender running in another
process. The sender now writes its state (connected, message in flight, attempts, last error, counts) to
outbound_destinations, and the newest event of each order it delivered to outbound_order_progress, so a
replayed older message of that order is recognised as superseded instead of overtaking it.

Revision ID: 0019
Revises: 0018
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "outbound_destinations",
        sa.Column("name", sa.String(length=63), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("connected", sa.Boolean(), nullable=False),
        sa.Column("in_flight_control_id", sa.String(length=200), nullable=True),
        sa.Column("in_flight_event_time", sa.DateTime(timezone=True), nullable=True),
        sa.Column("failing_since", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("last_error_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    op.create_table(
        "outbound_order_progress",
        sa.Column("destination", sa.String(length=63), nullable=False),
        sa.Column("subject", sa.String(length=64), nullable=False),
        sa.Column("event_id", sa.String(length=64), nullable=False),
        sa.Column("event_type", sa.String(length=64), nullable=False),
        sa.Column("event_time", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("destination", "subject"),
    )


def downgrade() -> None:
    op.drop_table("outbound_order_progress")
    op.drop_table("outbound_destinations")
