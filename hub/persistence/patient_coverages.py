"""A patient's coverages on file, in billing order (primary first): what the pharmacy bills an order to, ahead
of whatever insurance the order itself carried (``hub.domain.coordination`` bills them in this order)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import Connection, delete, insert, select

from hub.domain.order_parts import CoverageInfo
from hub.persistence.tables import patient_coverages


class PatientCoverages:
    """Reads and replaces one patient's ordered coverages on the caller's connection."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def ordered(self, patient_id: str) -> tuple[CoverageInfo, ...]:
        """The patient's coverages, primary first; empty when none are on file as a list."""
        c = patient_coverages.c
        rows = self.conn.execute(select(c.coverage).where(c.patient_id == patient_id).order_by(c.position)).scalars()
        return tuple(CoverageInfo.model_validate(row) for row in rows)

    def replace(self, patient_id: str, coverages: Sequence[CoverageInfo]) -> None:
        """Put ``coverages`` on file in this order (an empty list removes them)."""
        self.conn.execute(delete(patient_coverages).where(patient_coverages.c.patient_id == patient_id))
        if not coverages:
            return
        at = datetime.now(UTC)
        self.conn.execute(
            insert(patient_coverages),
            [
                {"patient_id": patient_id, "position": n, "coverage": c.model_dump(mode="json"), "updated_at": at}
                for n, c in enumerate(coverages, start=1)
            ],
        )
