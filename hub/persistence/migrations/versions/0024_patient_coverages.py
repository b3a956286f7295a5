"""patient_coverages: the pharmacy's insurance on file for a patient as an ordered list (primary first)

One row per coverage and position (1 primary, 2 secondary...), so a patient with two plans can be billed to
the second after the first (coordination of benefits, issue #33). The older single ``patients.coverage`` stays
for patients without a list.

Revision ID: 0024
Revises: 0023
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "patient_coverages",
        sa.Column("patient_id", sa.String(36), primary_key=True),
        sa.Column("position", sa.Integer(), primary_key=True),
        sa.Column("coverage", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("patient_coverages")
