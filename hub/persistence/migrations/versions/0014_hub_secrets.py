"""hub_secrets: secrets the hub generates for itself, shared by every process on the database

The command key (hub.security.command_signing) signs every command a hub process publishes; without
RXHUB_COMMAND_KEY the first process to need one generates it here, and every other process sharing the
database reads the same key, so they sign and verify alike while a holder of broker credentials alone cannot.

Revision ID: 0014
Revises: 0013
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "hub_secrets",
        sa.Column("name", sa.String(40), primary_key=True),
        sa.Column("value", sa.String(200), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("hub_secrets")
