"""prescriptions by patient: the DUR profile query runs inside every intake transaction

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("prescriptions", schema=None) as batch_op:
        batch_op.create_index("ix_prescriptions_patient", ["patient_id", "state"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("prescriptions", schema=None) as batch_op:
        batch_op.drop_index("ix_prescriptions_patient")
