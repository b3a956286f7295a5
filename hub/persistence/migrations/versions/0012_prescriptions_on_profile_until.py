"""prescriptions.on_profile_until: screening an order skips the patient's supplies that ran out

Intake screens a new order against the patient's open prescriptions, and read every one of them: a patient's
profile grows by every prescription of years of refills. The column holds the last day a prescription can
matter to screening (its last dispensed supply runs out), NULL while a fill is in progress. Rows stored
before this migration keep NULL, which means "read it" (as before), until their next change.

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("prescriptions", sa.Column("on_profile_until", sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("prescriptions") as batch:
        batch.drop_column("on_profile_until")
