"""drop migration 0010's three inbound_messages indexes: they slowed the HL7 ACK path

The ACK path writes ``inbound_messages`` (the dedupe record). Migration 0010's indexes there, for reads only
operators make (the message search newest first or by MSH-10, counts per door and outcome, the raw body
purge), cost the sequential HL7 sender 20-30% of its rate in seven interleaved pairs of runs. The claim status
index of 0010 stays (``claim_transmissions`` is off the ACK path).

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_inbound_messages_door_outcome", "inbound_messages")
    op.drop_index("ix_inbound_messages_control_id", "inbound_messages")
    op.drop_index("ix_inbound_messages_received_at", "inbound_messages")


def downgrade() -> None:
    op.create_index("ix_inbound_messages_received_at", "inbound_messages", ["received_at"])
    op.create_index("ix_inbound_messages_control_id", "inbound_messages", ["control_id", "received_at"])
    op.create_index("ix_inbound_messages_door_outcome", "inbound_messages", ["door", "outcome"])
