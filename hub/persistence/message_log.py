"""Searching inbound messages and telling one message's story (for integration engineers)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select

from hub.persistence.inbound import ORDER_INDEX_DOOR
from hub.persistence.prescriptions import PrescriptionRepository
from hub.persistence.tables import inbound_messages, outbox
from hub.security import data_key


class MessageLog:
    """Read-only queries over inbound messages, the prescriptions they made and the events that followed."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def search(self, *, control_id: str | None = None, door: str | None = None, since: datetime | None = None,
               until: datetime | None = None, ids: list[str] | None = None, limit: int = 100) -> list[dict[str, Any]]:
        """Message headers (never bodies), newest first."""
        c = inbound_messages.c
        query = select(c.id, c.door, c.sender, c.control_id, c.message_type, c.received_at, c.outcome).where(
            c.door != ORDER_INDEX_DOOR)  # rows that index accepted orders, not messages
        if control_id:
            query = query.where(c.control_id == control_id)
        if door:
            query = query.where(c.door == door)
        if since:
            query = query.where(c.received_at >= since)
        if until:
            query = query.where(c.received_at <= until)
        if ids is not None:
            query = query.where(c.id.in_(ids))
        rows = self.conn.execute(query.order_by(c.received_at.desc()).limit(limit)).mappings().all()
        return [dict(r) | {"received_at": r["received_at"].isoformat()} for r in rows]

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
        row = self.conn.execute(select(inbound_messages).where(inbound_messages.c.id == message_id)).mappings().first()
        if row is None:
            return None
        story: dict[str, Any] = {
            "id": row["id"], "door": row["door"], "sender": row["sender"], "control_id": row["control_id"],
            "message_type": row["message_type"], "received_at": row["received_at"].isoformat(),
            "outcome": row["outcome"], "answer": (row["answer"] or b"").decode("utf-8", "replace"),
            "commands": list(row["command_ids"] or []),
        }
        if with_raw:
            story["raw"] = (data_key.reveal(row["raw"]) or b"").decode("utf-8", "replace")
        prescriptions = PrescriptionRepository(self.conn).from_message(f"{row['door']}:{row['id']}")
        story["prescriptions"] = []
        for rx in prescriptions:
            events = self.conn.execute(
                select(outbox.c.id, outbox.c.message_type, outbox.c.target, outbox.c.created_at, outbox.c.published_at,
                       outbox.c.error)
                .where(outbox.c.correlation_id == rx.correlation_id).order_by(outbox.c.seq)).mappings().all()
            story["prescriptions"].append({
                "prescription_id": rx.id, "rx_number": rx.rx_number, "state": rx.state,
                "events": [{"id": e["id"], "type": e["message_type"], "target": e["target"],
                            "created_at": e["created_at"].isoformat(),
                            "published_at": e["published_at"].isoformat() if e["published_at"] else None,
                            "error": e["error"]} for e in events],
            })
        return story
