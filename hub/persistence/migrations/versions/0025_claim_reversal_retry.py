"""claim_transmissions.retry_at: when a status-unknown claim's unanswered reversal is sent again

A reversal still owed for a claim the payer never answered is retried until the payer answers it, with a
bounded exponential backoff; the time of the next try is kept here, so a worker restart loses none, and the
claim sweeper sends the due ones (issue #33).

Revision ID: 0025
Revises: 0024
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("claim_transmissions", sa.Column("retry_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index(
        "ix_claim_transmissions_retry",
        "claim_transmissions",
        ["retry_at"],
        postgresql_where=sa.text("retry_at IS NOT NULL"),
        sqlite_where=sa.text("retry_at IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_claim_transmissions_retry", table_name="claim_transmissions")
    op.drop_column("claim_transmissions", "retry_at")
