"""identity_conflicts and patients.merged_into: patient matching that cannot merge two people

Two senders' ``1234`` without an assigning authority landed on one profile, the second order's name, birth
date and sex overwriting the first's. Intake now keeps an order whose demographics conflict with the profile
its identifier points at on a new profile, and records the pair here for a technician, who links them
(the new profile is kept, marked merged_into the other) or keeps them apart (docs/patient-matching.md).

Revision ID: 0015
Revises: 0014
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("patients", sa.Column("merged_into", sa.String(length=36), nullable=True))
    op.create_table(
        "identity_conflicts",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("new_patient_id", sa.String(length=36), nullable=False),
        sa.Column("existing_patient_id", sa.String(length=36), nullable=False),
        sa.Column("identifier_system", sa.String(length=200), nullable=True),
        sa.Column("identifier_value", sa.String(length=100), nullable=True),
        sa.Column("fields", sa.JSON(), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("principal", sa.String(length=200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("decided_by", sa.String(length=100), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_identity_conflicts_status", "identity_conflicts", ["status", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_identity_conflicts_status", "identity_conflicts")
    op.drop_table("identity_conflicts")
    with op.batch_alter_table("patients") as batch:
        batch.drop_column("merged_into")
