"""command_outcomes: what became of each staff command the API answered 202 for

A pharmacist's approval was answered 202 and shown as done; when the worker refused it, the refusal was only
in the admin's dead-letter list. The API now records each staff command as pending, the worker records it
applied or refused in the transaction of its effects, and a dead-lettered one is recorded by the consumer:
GET /api/commands/{id} reads it.

Revision ID: 0018
Revises: 0017
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "command_outcomes",
        sa.Column("message_id", sa.String(length=36), nullable=False),
        sa.Column("command", sa.String(length=100), nullable=False),
        sa.Column("actor", sa.String(length=36), nullable=False),
        sa.Column("prescription_id", sa.String(length=36), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("message_id"),
    )
    op.create_index("ix_command_outcomes_at", "command_outcomes", ["at"])


def downgrade() -> None:
    op.drop_index("ix_command_outcomes_at", "command_outcomes")
    op.drop_table("command_outcomes")
