"""Claim transmissions: what was sent to which payer for which fill, and what came back."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Connection, insert, select, update

from hub.persistence.tables import claim_transmissions, outbox


@dataclass(frozen=True)
class Transmission:
    """One claim transaction's record."""

    exchange_id: str
    prescription_id: str
    fill_number: int
    attempt: int
    transaction: str
    purpose: str
    resends: int
    answered: bool
    status: str | None


class ClaimLedger:
    """The hub's own ledger of payer traffic (idempotent by exchange id)."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def get(self, exchange_id: str) -> Transmission | None:
        """One transmission."""
        r = self.conn.execute(select(claim_transmissions).where(
            claim_transmissions.c.exchange_id == exchange_id)).mappings().first()
        if r is None:
            return None
        return Transmission(r["exchange_id"], r["prescription_id"], r["fill_number"], r["attempt"],
                            r["transaction"], r["purpose"], r["resends"], r["answered_at"] is not None, r["status"])

    def sent(self, *, exchange_id: str, prescription_id: str, fill_number: int, attempt: int, transaction: str,
             purpose: str, resends: int) -> None:
        """Record a (re)transmission."""
        if self.get(exchange_id) is None:
            self.conn.execute(insert(claim_transmissions), dict(
                exchange_id=exchange_id, prescription_id=prescription_id, fill_number=fill_number, attempt=attempt,
                transaction=transaction, purpose=purpose, resends=resends, sent_at=datetime.now(UTC)))
        else:
            self.conn.execute(update(claim_transmissions).where(claim_transmissions.c.exchange_id == exchange_id)
                              .values(resends=resends, sent_at=datetime.now(UTC), answered_at=None, status=None))

    def answered(self, exchange_id: str, status: str, reject_codes: tuple[str, ...] = ()) -> None:
        """Record the payer's answer (or "timeout")."""
        self.conn.execute(update(claim_transmissions).where(claim_transmissions.c.exchange_id == exchange_id)
                          .values(answered_at=datetime.now(UTC), status=status,
                                  reject_codes=",".join(reject_codes)[:60]))

    def never_left(self, exchange_id: str) -> bool:
        """True when the latest transmission of this claim was refused by the broker (parked in the outbox)."""
        row = self.conn.execute(
            select(outbox.c.error).where(outbox.c.correlation_id == exchange_id, outbox.c.target == "payer")
            .order_by(outbox.c.seq.desc()).limit(1)).first()
        return row is not None and row[0] is not None

    def for_prescription(self, prescription_id: str) -> list[Transmission]:
        """Every transmission of a prescription, oldest first."""
        rows = self.conn.execute(select(claim_transmissions.c.exchange_id).where(
            claim_transmissions.c.prescription_id == prescription_id).order_by(claim_transmissions.c.sent_at)).all()
        return [t for t in (self.get(r[0]) for r in rows) if t is not None]
