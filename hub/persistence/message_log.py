"""Searching inbound messages, accepted and refused, and telling one message's story (for integration engineers)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, RowMapping, Select, select

from hub.domain.storable import first_unstorable
from hub.persistence.inbound import ORDER_INDEX_DOOR
from hub.persistence.prescriptions import PrescriptionRepository
from hub.persistence.tables import inbound_messages, outbox, refused_messages
from hub.security import data_key


class MessageLog:
    """Read-only queries over inbound messages, the prescriptions they made and the events that followed."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def search(
        self,
        *,
        control_id: str | None = None,
        door: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        ids: list[str] | None = None,
        limit: int = 100,
    ) -> list[dict[str, Any]]:
        """Message headers (never bodies), newest first: accepted messages and refused ones (``refused``
        true, with the reason); ``ids`` (the messages behind prescriptions) finds accepted ones only."""
        if first_unstorable([control_id, door]) is not None:
            return []  # nothing stored holds such text, and PostgreSQL would refuse the query
        accepted = inbound_messages.c
        query = select(
            accepted.id,
            accepted.door,
            accepted.sender,
            accepted.control_id,
            accepted.message_type,
            accepted.received_at,
            accepted.outcome,
        ).where(accepted.door != ORDER_INDEX_DOOR)  # rows that index accepted orders, not messages
        if ids is not None:
            query = query.where(accepted.id.in_(ids))
        found = [
            dict(r) | {"refused": False} for r in self._matching(query, accepted, control_id, door, since, until, limit)
        ]
        if ids is None:
            refused = refused_messages.c
            with_reason = select(
                refused.id,
                refused.door,
                refused.sender,
                refused.control_id,
                refused.message_type,
                refused.received_at,
                refused.outcome,
                refused.reason,
            )
            found += [
                dict(r) | {"refused": True}
                for r in self._matching(with_reason, refused, control_id, door, since, until, limit)
            ]
        found.sort(key=lambda r: r["received_at"], reverse=True)
        return [r | {"received_at": r["received_at"].isoformat()} for r in found[:limit]]

    def _matching(
        self,
        query: Select[Any],
        c: Any,
        control_id: str | None,
        door: str | None,
        since: datetime | None,
        until: datetime | None,
        limit: int,
    ) -> Sequence[RowMapping]:
        if control_id:
            query = query.where(c.control_id == control_id)
        if door:
            query = query.where(c.door == door)
        if since:
            query = query.where(c.received_at >= since)
        if until:
            query = query.where(c.received_at <= until)
        return self.conn.execute(query.order_by(c.received_at.desc()).limit(limit)).mappings().all()

    def message_ids_for_prescription(self, rx_number: str | None, placer_order_number: str | None) -> list[str]:
        """Inbound message ids behind prescriptions found by Rx or placer number."""
        repo = PrescriptionRepository(self.conn)
        rows = [repo.by_rx_number(rx_number)] if rx_number else []
        if placer_order_number:
            rows.append(repo.by_placer(None, placer_order_number))
        refs = [r.document.get("raw_message_ref") for r in rows if r is not None]
        return [ref.split(":", 1)[1] for ref in refs if ref and ":" in ref]

    def story(self, message_id: str, *, with_raw: bool) -> dict[str, Any] | None:
        """The message, its answer, the prescriptions it made and every event about them, with timings."""
        if first_unstorable(message_id) is not None:
            return None
        row = self.conn.execute(select(inbound_messages).where(inbound_messages.c.id == message_id)).mappings().first()
        if row is None:
            return self._refused_story(message_id, with_raw=with_raw)
        story: dict[str, Any] = {
            "id": row["id"],
            "door": row["door"],
            "sender": row["sender"],
            "control_id": row["control_id"],
            "message_type": row["message_type"],
            "received_at": row["received_at"].isoformat(),
            "outcome": row["outcome"],
            "answer": (row["answer"] or b"").decode("utf-8", "replace"),
            "commands": list(row["command_ids"] or []),
        }
        if with_raw:
            story["raw"] = (data_key.reveal(row["raw"]) or b"").decode("utf-8", "replace")
        prescriptions = PrescriptionRepository(self.conn).from_message(f"{row['door']}:{row['id']}")
        story["prescriptions"] = []
        for rx in prescriptions:
            events = (
                self.conn.execute(
                    select(
                        outbox.c.id,
                        outbox.c.message_type,
                        outbox.c.target,
                        outbox.c.created_at,
                        outbox.c.published_at,
                        outbox.c.error,
                    )
                    .where(outbox.c.correlation_id == rx.correlation_id)
                    .order_by(outbox.c.seq)
                )
                .mappings()
                .all()
            )
            story["prescriptions"].append(
                {
                    "prescription_id": rx.id,
                    "rx_number": rx.rx_number,
                    "state": rx.state,
                    "events": [
                        {
                            "id": e["id"],
                            "type": e["message_type"],
                            "target": e["target"],
                            "created_at": e["created_at"].isoformat(),
                            "published_at": e["published_at"].isoformat() if e["published_at"] else None,
                            "error": e["error"],
                        }
                        for e in events
                    ],
                }
            )
        return story

    def _refused_story(self, message_id: str, *, with_raw: bool) -> dict[str, Any] | None:
        """A refused message: its answer and why; it made no command and no prescription."""
        row = self.conn.execute(select(refused_messages).where(refused_messages.c.id == message_id)).mappings().first()
        if row is None:
            return None
        story: dict[str, Any] = {
            "id": row["id"],
            "door": row["door"],
            "sender": row["sender"],
            "control_id": row["control_id"],
            "message_type": row["message_type"],
            "received_at": row["received_at"].isoformat(),
            "outcome": row["outcome"],
            "refused": True,
            "reason": row["reason"],
            "answer": (row["answer"] or b"").decode("utf-8", "replace"),
            "raw_size": row["raw_size"],
            "commands": [],
            "prescriptions": [],
        }
        if with_raw:  # kept only sealed (RXHUB_DATA_KEY), and at most its head: hub.persistence.refused_messages
            raw = data_key.reveal(row["raw"])
            story["raw"] = raw.decode("utf-8", "replace") if raw is not None else ""
            story["raw_kept"] = len(raw) if raw is not None else 0
        return story
