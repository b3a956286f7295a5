"""claims counted by payer status through an index

The dashboard (every 5 s per open tab) and each /metrics scrape counted claim transmissions per status over
the whole table, rows with their request and response bytes: a covering index keeps the count to the index.
The same for ``inbound_messages`` (counts per door and outcome, the message search newest first or by MSH-10,
the raw body purge) was tried and left out: its three indexes cost the sequential HL7 sender 20-30% of its
rate in interleaved runs (the ACK path writes that table), for reads only operators make.

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_claim_transmissions_status", "claim_transmissions", ["status"])


def downgrade() -> None:
    op.drop_index("ix_claim_transmissions_status", "claim_transmissions")
