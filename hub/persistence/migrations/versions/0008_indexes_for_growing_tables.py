"""indexes for the lookups that scanned tables growing with every order

The outbox by correlation id (a claim's timeout check, every claim timeout; an operator's message story)
and the claim ledger by unanswered transmission (the claim sweeper, every 10 s in every worker process) and
by prescription (the pharmacist's prescription view) read the whole table: 65-85 ms at 400,000 outbox rows
on PostgreSQL, which a busy pharmacy writes in a day, and growing with it.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_outbox_correlation", "outbox", ["correlation_id", "seq"])
    op.create_index("ix_claim_transmissions_prescription", "claim_transmissions", ["prescription_id"])
    op.create_index(
        "ix_claim_transmissions_unanswered",
        "claim_transmissions",
        ["sent_at"],
        postgresql_where=sa.text("answered_at IS NULL"),
        sqlite_where=sa.text("answered_at IS NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_claim_transmissions_unanswered", "claim_transmissions")
    op.drop_index("ix_claim_transmissions_prescription", "claim_transmissions")
    op.drop_index("ix_outbox_correlation", "outbox")
