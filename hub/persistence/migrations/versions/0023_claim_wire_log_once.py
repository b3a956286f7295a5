"""claim_wire_log: a claim message is transmitted at most once, whichever connector consumes it

A unique partial index on the message id of ``transmitting`` notes: of two connectors handed copies of one
outbox row at the same moment, the second fails to note its transmission and drops its copy (issue #33).

Revision ID: 0023
Revises: 0022
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None

_ONLY_TRANSMISSIONS = sa.text("event = 'transmitting'")


def upgrade() -> None:
    op.create_index(
        "ux_claim_wire_log_transmitted",
        "claim_wire_log",
        ["message_id"],
        unique=True,
        postgresql_where=_ONLY_TRANSMISSIONS,
        sqlite_where=_ONLY_TRANSMISSIONS,
    )


def downgrade() -> None:
    op.drop_index("ux_claim_wire_log_transmitted", table_name="claim_wire_log")
