"""Claim transmissions: what was sent to which payer for which fill, and what came back."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, bindparam, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

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
        r = self.conn.execute(_GET, {"xid": exchange_id}).mappings().first()
        return _transmission(r) if r is not None else None

    def sent(self, *, exchange_id: str, prescription_id: str, fill_number: int, attempt: int, transaction: str,
             purpose: str, resends: int) -> None:
        """Record a (re)transmission: a new row, or the known one unanswered again with its resend count."""
        dialect = self.conn.dialect.name
        if dialect not in _SENT:
            upsert = sqlite_insert(claim_transmissions) if dialect == "sqlite" else pg_insert(claim_transmissions)
            _SENT[dialect] = upsert.on_conflict_do_update(
                index_elements=[claim_transmissions.c.exchange_id],
                set_={"resends": upsert.excluded.resends, "sent_at": upsert.excluded.sent_at,
                      "answered_at": None, "status": None})
        self.conn.execute(_SENT[dialect], dict(
            exchange_id=exchange_id, prescription_id=prescription_id, fill_number=fill_number, attempt=attempt,
            transaction=transaction, purpose=purpose, resends=resends, sent_at=datetime.now(UTC)))

    def answered(self, exchange_id: str, status: str, reject_codes: tuple[str, ...] = ()) -> None:
        """Record the payer's answer (or "timeout")."""
        self.conn.execute(update(claim_transmissions).where(claim_transmissions.c.exchange_id == exchange_id)
                          .values(answered_at=datetime.now(UTC), status=status,
                                  reject_codes=",".join(reject_codes)[:60]))

    def answer(self, exchange_id: str, status: str, reject_codes: tuple[str, ...] = ()) -> Transmission | None:
        """Record the payer's answer to a transmission still waiting for one, and return it as it was sent;
        None when it is unknown or already answered (a late or repeated answer), which changes nothing.

        One statement for the check and the record: of two answers racing for one claim, the second waits on
        the row and then finds it answered (PostgreSQL re-checks the condition on the updated row).
        """
        r = self.conn.execute(_ANSWER, {
            "xid": exchange_id, "answered_at": datetime.now(UTC), "status": status,
            "reject_codes": ",".join(reject_codes)[:60]}).mappings().first()
        return dataclasses.replace(_transmission(r), answered=False, status=None) if r is not None else None

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


def _transmission(r: Any) -> Transmission:
    return Transmission(r["exchange_id"], r["prescription_id"], r["fill_number"], r["attempt"], r["transaction"],
                        r["purpose"], r["resends"], r["answered_at"] is not None, r["status"])


_GET = select(claim_transmissions).where(claim_transmissions.c.exchange_id == bindparam("xid"))
_ANSWER = (update(claim_transmissions)
           .where(claim_transmissions.c.exchange_id == bindparam("xid"), claim_transmissions.c.answered_at.is_(None))
           .values(answered_at=bindparam("answered_at"), status=bindparam("status"),
                   reject_codes=bindparam("reject_codes"))
           .returning(*claim_transmissions.c))
#: per dialect: INSERT ... ON CONFLICT (exchange_id) DO UPDATE (built once)
_SENT: dict[str, Any] = {}
