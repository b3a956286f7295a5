"""Feeds and what they may claim; every order's owner

A feed is an identity the hub knows (an EHR interface, a SCRIPT network); its bindings say which TLS
certificate subject, HL7 MSH-3/4 and SCRIPT From it may use, each bound to one feed only. An order belongs
to the authenticated principal that sent it (``prescriptions.owner``): cancels, reads and searches resolve
within it. Rows stored before this migration keep NULL: no feed owns them, staff still see them.

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "feeds",
        sa.Column("name", sa.String(100), primary_key=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("disabled_at", sa.DateTime(timezone=True)),
    )
    op.create_table(
        "feed_bindings",
        sa.Column("kind", sa.String(16), primary_key=True),
        sa.Column("value", sa.String(200), primary_key=True),
        sa.Column("feed", sa.String(100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_feed_bindings_feed", "feed_bindings", ["feed"])
    op.add_column("prescriptions", sa.Column("owner", sa.String(200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("prescriptions") as batch:
        batch.drop_column("owner")
    op.drop_index("ix_feed_bindings_feed", "feed_bindings")
    op.drop_table("feed_bindings")
    op.drop_table("feeds")
