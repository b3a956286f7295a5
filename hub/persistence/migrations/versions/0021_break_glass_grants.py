"""break_glass_grants: emergency access an admin gives a user for a while, with the reason

HIPAA 164.312(a)(2)(ii) asks for an emergency access procedure. An admin grants a named user a higher role
for a bounded time with a mandatory reason; every grant and its end is audited, logged and counted.

Revision ID: 0021
Revises: 0020
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "break_glass_grants",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("user_id", sa.String(length=36), nullable=False),
        sa.Column("user_name", sa.String(length=100), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("granted_by", sa.String(length=100), nullable=False),
        sa.Column("granted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_by", sa.String(length=100), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_break_glass_grants_user", "break_glass_grants", ["user_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_break_glass_grants_user", table_name="break_glass_grants")
    op.drop_table("break_glass_grants")
