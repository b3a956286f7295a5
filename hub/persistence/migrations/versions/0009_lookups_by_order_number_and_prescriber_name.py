"""lookups by order number alone and by prescriber name used no index

A FHIR create with ``If-None-Exist: identifier=<value>`` (no system), and a staff search by placer order
number, filtered on the second column of ``(placer_system, placer_order_number)``: a scan of every
prescription (with its document, on SQLite) per request. The index now starts with the order number.
An order naming its prescriber without an NPI read every namesake of ``prescribers`` unindexed.

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_prescriptions_placer", "prescriptions")
    op.create_index("ix_prescriptions_placer", "prescriptions", ["placer_order_number", "placer_system"])
    op.create_index("ix_prescribers_family_name", "prescribers", ["family_name"])


def downgrade() -> None:
    op.drop_index("ix_prescribers_family_name", "prescribers")
    op.drop_index("ix_prescriptions_placer", "prescriptions")
    op.create_index("ix_prescriptions_placer", "prescriptions", ["placer_system", "placer_order_number"])
