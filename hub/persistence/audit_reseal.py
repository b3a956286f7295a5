"""Moving an existing chain to ``RXHUB_AUDIT_KEY`` (re-sealing from a trusted point) and taking anchors.

``rekey``: the chain is verified first as it stands (plain links by SHA-256, keyed ones by their key, and an
anchor if given); only if it holds is every entry from the first one not sealed with the current key
re-linked with HMACs, in one transaction. That moment is the trusted point: whatever was changed before it
and left no broken link is kept. On PostgreSQL the append-only trigger is disabled for that transaction,
which only the table's owner may do (the role that runs ``rxhub db upgrade``).
"""

from __future__ import annotations

from sqlalchemy import Connection, Engine, select, update

from hub.errors import ConfigurationError
from hub.persistence.chain_sealer import CHAIN_LOCK, seal, write_links
from hub.persistence.database import read_connection
from hub.persistence.tables import audit_log
from hub.security.audit_anchors import Anchor, signed
from hub.security.audit_chain import GENESIS, ChainReport, entry_hash, entry_tag, verify_rows
from hub.security.audit_keys import AuditKeys, keys_of

_SEALED = select(audit_log).where(audit_log.c.seq.is_not(None)).order_by(audit_log.c.seq)
_HEAD = select(audit_log).where(audit_log.c.seq.is_not(None)).order_by(audit_log.c.seq.desc()).limit(1)


def _keys(engine: Engine) -> AuditKeys:
    keys = keys_of(engine)
    if keys is None:
        raise ConfigurationError("RXHUB_AUDIT_KEY is unset: there is no key to seal or sign with")
    return keys


def rekey(engine: Engine, *, anchor: str | None = None) -> tuple[ChainReport, int]:
    """Re-seal the chain with the sealing key after checking it; (the check, entries re-sealed). Nothing is
    changed when the check finds anything but entries sealed without (or with an older) key."""
    keys = _keys(engine)
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({CHAIN_LOCK})")
        rows = [dict(r) for r in conn.execute(_SEALED).mappings()]
        report = verify_rows(rows, anchor=anchor, keys=keys, plain_ok=True)
        if not report.ok:
            return report, 0
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql("ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only")
        links: list[dict[str, object]] = []
        prev = GENESIS
        for row in rows:
            digest = entry_hash(row, prev, keys)
            if row["key_id"] != keys.sealing_id or links:
                links.append(
                    {
                        "entry_id": row["id"],
                        "new_seq": row["seq"],
                        "new_prev": prev,
                        "new_hash": digest,
                        "new_kid": keys.sealing_id,
                    }
                )
            prev = digest
        if links:
            write_links(conn, links)
        _tag_pending(conn, keys)
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql("ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only")
        seal(conn)
    return report, len(links)


def _tag_pending(conn: Connection, keys: AuditKeys) -> None:
    """Entries written before the key, not sealed yet: tagged now, as part of the trusted point."""
    untagged = select(audit_log).where(audit_log.c.hash.is_(None), audit_log.c.tag.is_(None))
    for row in conn.execute(untagged).mappings().all():
        conn.execute(update(audit_log).where(audit_log.c.id == row["id"]).values(tag=entry_tag(dict(row), keys)))


def head_anchor(engine: Engine) -> Anchor | None:
    """A signed anchor of the chain's head, if its own link holds under the key (None: an empty chain)."""
    keys = _keys(engine)
    with read_connection(engine) as conn:
        found = conn.execute(_HEAD).mappings().first()
    head = dict(found) if found is not None else None
    if head is None:
        return None
    if not keys.knows(head["key_id"]) or entry_hash(head, head["prev_hash"], keys, head["key_id"]) != head["hash"]:
        raise ConfigurationError(
            f"the chain's head (entry {head['seq']}) does not hold under RXHUB_AUDIT_KEY: run rxhub audit verify"
        )
    return signed(head["seq"], head["hash"], keys)
