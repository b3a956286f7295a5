"""The staff behind commands as on record now: role and licence, or the role a break-glass grant gives them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, bindparam, select

from hub.domain.actors import Actor, Role
from hub.persistence.tables import break_glass_grants, users

#: the role of a break-glass grant in force for the user (hub.persistence.break_glass), the latest-ending
_bg = break_glass_grants.c
_GRANTED = (
    select(_bg.role)
    .where(
        _bg.user_id == users.c.id,
        _bg.ended_at.is_(None),
        _bg.granted_at <= bindparam("now"),
        _bg.expires_at > bindparam("now"),
    )
    .order_by(_bg.expires_at.desc())
    .limit(1)
    .scalar_subquery()
)
#: read for every staff command: the role and licence on record now (a revoked user is refused at once), and
#: the role a break-glass grant gives them for now
_USER = select(
    users.c.id, users.c.role, users.c.name, users.c.licence, users.c.revoked_at, _GRANTED.label("granted_role")
).where(users.c.id == bindparam("user_id"))


class StaffActors:
    """Staff users as actors, read on the unit of work's connection."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def on_record(self, user_id: str, now: datetime) -> Actor | None:
        """The user with the role in force at ``now``; None when unknown or revoked."""
        row = self.conn.execute(_USER, {"user_id": user_id, "now": now}).mappings().first()
        if row is None or row["revoked_at"] is not None:
            return None
        role = Role(row["granted_role"] or row["role"])
        return Actor(user_id=row["id"], role=role, name=row["name"], licence=row["licence"])
