"""indexes for the operators' reads of inbound messages and claims

The message search sorted every stored message (newest first, with the raw bodies in the same rows) for
each page, and searched MSH-10 alone without an index; the raw body purge read every message; the dashboard
(every 5 s per open tab) and each /metrics scrape counted messages per door and outcome and claims per
status over the whole tables. Each grew with every order the pharmacy ever received.

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
    op.create_index("ix_inbound_messages_received_at", "inbound_messages", ["received_at"])
    op.create_index("ix_inbound_messages_control_id", "inbound_messages", ["control_id", "received_at"])
    op.create_index("ix_inbound_messages_door_outcome", "inbound_messages", ["door", "outcome"])
    op.create_index("ix_claim_transmissions_status", "claim_transmissions", ["status"])


def downgrade() -> None:
    op.drop_index("ix_claim_transmissions_status", "claim_transmissions")
    op.drop_index("ix_inbound_messages_door_outcome", "inbound_messages")
    op.drop_index("ix_inbound_messages_control_id", "inbound_messages")
    op.drop_index("ix_inbound_messages_received_at", "inbound_messages")
