"""refused_messages: every message a door answered with its standard's error, findable and bounded

HL7 messages answered AE/AR, FHIR requests answered 4xx/5xx and SCRIPT Errors left no trace: not in the
message search, not in the audit trail. They get a table of their own rather than rows in
``inbound_messages``, whose unique (door, sender, control id) answers a resend of an accepted message: a
corrected message resent under the same control id must be read afresh. Indexed by time (retention, the row
cap) and control id (the search); it is written off the ACK path, in batches.

Revision ID: 0016
Revises: 0015
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "refused_messages",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("door", sa.String(length=16), nullable=False),
        sa.Column("sender", sa.String(length=200), nullable=False),
        sa.Column("control_id", sa.String(length=200), nullable=False),
        sa.Column("message_type", sa.String(length=40), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("outcome", sa.String(length=8), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("answer", sa.LargeBinary(), nullable=True),
        sa.Column("raw", sa.LargeBinary(), nullable=True),
        sa.Column("raw_size", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_refused_messages_received_at", "refused_messages", ["received_at"])
    op.create_index("ix_refused_messages_control_id", "refused_messages", ["control_id"])


def downgrade() -> None:
    op.drop_index("ix_refused_messages_control_id", "refused_messages")
    op.drop_index("ix_refused_messages_received_at", "refused_messages")
    op.drop_table("refused_messages")
