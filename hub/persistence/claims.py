"""Claim transmissions: what was sent to which payer for which fill, and what came back."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Connection, Engine, bindparam, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError

from hub.persistence.tables import claim_transmissions, claim_wire_log, outbox


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


class WireEvent(StrEnum):
    """What a ``claim_wire_log`` row says happened."""

    #: handed to a switch (written before the bytes leave, so a duplicate publish is caught)
    TRANSMITTING = "transmitting"
    #: a switch answered
    ANSWERED = "answered"
    #: sent, and no answer came (dropped connection, timeout): the status-unknown path decides
    NO_ANSWER = "no-answer"
    #: the route's switch could not be reached: handed to its failover switch
    FAILOVER = "failover"
    #: a switch could not be reached; nothing was sent to it
    UNREACHABLE = "unreachable"
    #: kept from the payer by the per-fill fence, with the reason in ``detail``
    DROPPED = "dropped"
    #: a payer answer for a transmission already answered or superseded
    LATE_ANSWER = "late-answer"


@dataclass(frozen=True)
class WireNote:
    """One ``claim_wire_log`` row."""

    exchange_id: str
    fill_number: int
    event: str
    switch: str | None
    status: str | None
    detail: str | None


class ClaimLedger:
    """The hub's own ledger of payer traffic (idempotent by exchange id)."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def get(self, exchange_id: str) -> Transmission | None:
        """One transmission."""
        r = self.conn.execute(_GET, {"xid": exchange_id}).mappings().first()
        return _transmission(r) if r is not None else None

    def sent(
        self,
        *,
        exchange_id: str,
        prescription_id: str,
        fill_number: int,
        attempt: int,
        transaction: str,
        purpose: str,
        resends: int,
    ) -> None:
        """Record a (re)transmission: a new row, or the known one unanswered again with its resend count."""
        dialect = self.conn.dialect.name
        if dialect not in _SENT:
            upsert = sqlite_insert(claim_transmissions) if dialect == "sqlite" else pg_insert(claim_transmissions)
            _SENT[dialect] = upsert.on_conflict_do_update(
                index_elements=[claim_transmissions.c.exchange_id],
                set_={
                    "resends": upsert.excluded.resends,
                    "sent_at": upsert.excluded.sent_at,
                    "answered_at": None,
                    "status": None,
                    "retry_at": None,
                },
            )
        self.conn.execute(
            _SENT[dialect],
            dict(
                exchange_id=exchange_id,
                prescription_id=prescription_id,
                fill_number=fill_number,
                attempt=attempt,
                transaction=transaction,
                purpose=purpose,
                resends=resends,
                sent_at=datetime.now(UTC),
            ),
        )

    def answered(self, exchange_id: str, status: str, reject_codes: tuple[str, ...] = ()) -> None:
        """Record the payer's answer (or "timeout")."""
        self.conn.execute(
            update(claim_transmissions)
            .where(claim_transmissions.c.exchange_id == exchange_id)
            .values(answered_at=datetime.now(UTC), status=status, reject_codes=",".join(reject_codes)[:60])
        )

    def retry_at(self, exchange_id: str, at: datetime | None) -> None:
        """Send this (answered or timed-out) transmission again at ``at``, through the claim sweeper; None: not."""
        self.conn.execute(
            update(claim_transmissions).where(claim_transmissions.c.exchange_id == exchange_id).values(retry_at=at)
        )

    def answer(self, exchange_id: str, status: str, reject_codes: tuple[str, ...] = ()) -> Transmission | None:
        """Record the payer's answer to a transmission still waiting for one, and return it as it was sent;
        None when it is unknown or already answered (a late or repeated answer), which changes nothing.

        One statement for the check and the record: of two answers racing for one claim, the second waits on
        the row and then finds it answered (PostgreSQL re-checks the condition on the updated row).
        """
        r = (
            self.conn.execute(
                _ANSWER,
                {
                    "xid": exchange_id,
                    "answered_at": datetime.now(UTC),
                    "status": status,
                    "reject_codes": ",".join(reject_codes)[:60],
                },
            )
            .mappings()
            .first()
        )
        return dataclasses.replace(_transmission(r), answered=False, status=None) if r is not None else None

    def never_left(self, exchange_id: str) -> bool:
        """True when the latest transmission of this claim was refused by the broker (parked in the outbox)."""
        row = self.conn.execute(
            select(outbox.c.error)
            .where(outbox.c.correlation_id == exchange_id, outbox.c.target == "payer")
            .order_by(outbox.c.seq.desc())
            .limit(1)
        ).first()
        return row is not None and row[0] is not None

    def note(
        self,
        exchange_id: str,
        event: str,
        *,
        message_id: str | None = None,
        switch: str | None = None,
        status: str | None = None,
        detail: str | None = None,
    ) -> None:
        """Record one event on the wire of a transmission (see ``WireEvent``); unknown exchanges are noted too."""
        known = self.get(exchange_id)
        prescription_id, fill_number = (known.prescription_id, known.fill_number) if known else _split(exchange_id)
        self.conn.execute(
            claim_wire_log.insert().values(
                exchange_id=exchange_id[:120],
                prescription_id=prescription_id,
                fill_number=fill_number,
                event=event,
                message_id=message_id and message_id[:64],
                switch=switch,
                status=status,
                detail=(detail or None) and detail[:200],
                at=datetime.now(UTC),
            )
        )

    def start_transmission(self, exchange_id: str, message_id: str | None, switch: str) -> bool:
        """Note that this message goes out now; False when another connector already noted it (unique index)."""
        try:
            with self.conn.begin_nested():
                self.note(exchange_id, WireEvent.TRANSMITTING, message_id=message_id, switch=switch)
        except IntegrityError:
            return False
        return True

    def fence(self, exchange_id: str, message_id: str | None) -> str | None:
        """Why this transmission must not go to the payer, or None when it may.

        The hub writes a transmission's ledger row before its message exists, so a claim the ledger does not
        know was never sent by the hub; one whose message already went out is a duplicate publish; one that
        is not the latest transmission of its fill is stale (a later B1 or B2 of the same fill is out, and this
        one would undo it at the payer).
        """
        known = self.get(exchange_id)
        if known is None:
            return "not in the claim ledger"
        if (
            message_id
            and self.conn.execute(
                select(claim_wire_log.c.id)
                .where(claim_wire_log.c.message_id == message_id, claim_wire_log.c.event == WireEvent.TRANSMITTING)
                .limit(1)
            ).first()
            is not None
        ):
            return "duplicate: this message was already transmitted"
        return self.superseded(known)

    def superseded(self, known: Transmission) -> str | None:
        """Why a transmission is stale (a later transmission of its fill is out), or None when it is the latest."""
        c = claim_transmissions.c
        latest = self.conn.execute(
            select(c.exchange_id)
            .where(c.prescription_id == known.prescription_id, c.fill_number == known.fill_number)
            .order_by(c.sent_at.desc(), c.attempt.desc())
            .limit(1)
        ).scalar()
        if latest != known.exchange_id:
            return f"stale: {latest} is the fill's latest transmission"
        return None

    def wire_log(self, prescription_id: str, fill_number: int | None = None) -> list[WireNote]:
        """A prescription's (or one fill's) wire events, oldest first."""
        w = claim_wire_log.c
        query = select(claim_wire_log).where(w.prescription_id == prescription_id)
        if fill_number is not None:
            query = query.where(w.fill_number == fill_number)
        rows = self.conn.execute(query.order_by(w.id)).mappings().all()
        return [
            WireNote(r["exchange_id"], r["fill_number"], r["event"], r["switch"], r["status"], r["detail"])
            for r in rows
        ]

    def for_prescription(self, prescription_id: str) -> list[Transmission]:
        """Every transmission of a prescription, oldest first."""
        rows = self.conn.execute(
            select(claim_transmissions.c.exchange_id)
            .where(claim_transmissions.c.prescription_id == prescription_id)
            .order_by(claim_transmissions.c.sent_at)
        ).all()
        return [t for t in (self.get(r[0]) for r in rows) if t is not None]


def drop_superseded(engine: Engine, claims: Sequence[tuple[str, str | None]]) -> set[str]:
    """Of (outbox row id, exchange id) pairs about to be published again, the rows whose claim is stale, each
    noted in the claim wire log: the outbox relay's fence, so a row republished after a later transmission of
    its fill never undoes that transmission at the payer."""
    dropped: set[str] = set()
    if not claims:
        return dropped
    with engine.begin() as conn:
        ledger = ClaimLedger(conn)
        for row_id, exchange_id in claims:
            known = ledger.get(exchange_id) if exchange_id else None
            reason = ledger.superseded(known) if known else None
            if known and reason:
                ledger.note(known.exchange_id, WireEvent.DROPPED, message_id=row_id, detail=f"relay: {reason}")
                dropped.add(row_id)
    return dropped


def _split(exchange_id: str) -> tuple[str, int]:
    parts = exchange_id.rsplit(":", 3)
    fill = parts[1] if len(parts) == 4 else ""
    return parts[0][:36], int(fill) if fill.isascii() and fill.isdigit() else 0


def _transmission(r: Any) -> Transmission:
    return Transmission(
        r["exchange_id"],
        r["prescription_id"],
        r["fill_number"],
        r["attempt"],
        r["transaction"],
        r["purpose"],
        r["resends"],
        r["answered_at"] is not None,
        r["status"],
    )


_GET = select(claim_transmissions).where(claim_transmissions.c.exchange_id == bindparam("xid"))
_ANSWER = (
    update(claim_transmissions)
    .where(claim_transmissions.c.exchange_id == bindparam("xid"), claim_transmissions.c.answered_at.is_(None))
    .values(answered_at=bindparam("answered_at"), status=bindparam("status"), reject_codes=bindparam("reject_codes"))
    .returning(*claim_transmissions.c)
)
#: per dialect: INSERT ... ON CONFLICT (exchange_id) DO UPDATE (built once)
_SENT: dict[str, Any] = {}
