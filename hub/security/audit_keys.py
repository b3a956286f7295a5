"""The audit trail's keys (``RXHUB_AUDIT_KEY``), held outside the database so that its holder cannot forge.

Whoever can write the database could rewrite a chain of plain hashes and recompute them. With a key, each
entry carries its writer's HMAC tag (an entry inserted by hand has none the sealer accepts) and is sealed
with an HMAC link; nobody without the key can make either. Several comma-separated keys rotate: the first
tags and seals, any of them verifies. ``key_id`` names a key without revealing it.

The key is attached to the engine (``with_audit_keys``) that ``hub.entrypoints.runtime.open_database``
builds from the settings: every writer and sealer on that engine uses it. An engine without keys seals with
plain SHA-256 (the hub warns at start; see docs/security.md, "Audit trail").
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Sequence

from sqlalchemy import Connection, Engine

ENV = "RXHUB_AUDIT_KEY"
#: a shorter key is refused: it could be guessed, and a typo should not become the key
MIN_KEY_CHARS = 32
#: the engine execution option that carries the keys to every connection
OPTION = "rxhub_audit_keys"


def key_id(key: bytes) -> str:
    """A key's public name: the first 8 hex digits of the SHA-256 of a label and the key."""
    return hashlib.sha256(b"rxhub-audit-key:" + key).hexdigest()[:8]


def new_key() -> str:
    """A fresh random key (256 bits, hex) for ``RXHUB_AUDIT_KEY``."""
    return secrets.token_hex(32)


class AuditKeys:
    """The keys of one process: the first tags and seals, any verifies."""

    def __init__(self, keys: Sequence[str]) -> None:
        raw = [k.strip().encode() for k in keys if k.strip()]
        if not raw:
            raise ValueError(f"{ENV}: no key given")
        if any(len(k) < MIN_KEY_CHARS for k in raw):
            raise ValueError(f"{ENV}: every key must be at least {MIN_KEY_CHARS} characters")
        self.sealing_id = key_id(raw[0])
        self._keys = {key_id(k): k for k in reversed(raw)}

    @classmethod
    def parse(cls, value: str) -> AuditKeys:
        """Keys from the setting's comma-separated list."""
        return cls(value.split(","))

    def knows(self, kid: str | None) -> bool:
        """Whether ``kid`` names one of these keys."""
        return kid is not None and kid in self._keys

    def ids(self) -> tuple[str, ...]:
        """The ids of every key, the sealing one first."""
        return (self.sealing_id, *(k for k in self._keys if k != self.sealing_id))

    def mac(self, data: bytes, kid: str | None = None) -> str:
        """Hex HMAC-SHA256 of ``data`` under the key ``kid`` (default: the sealing key)."""
        return hmac.new(self._keys[kid or self.sealing_id], data, hashlib.sha256).hexdigest()

    def holds(self, data: bytes, given: str | None, kid: str | None = None) -> bool:
        """Whether ``given`` is the MAC of ``data`` under ``kid`` (constant time)."""
        return (
            given is not None
            and self.knows(kid or self.sealing_id)
            and hmac.compare_digest(self.mac(data, kid).encode(), given.encode("ascii", "replace"))
        )


def with_audit_keys(engine: Engine, keys: AuditKeys | None) -> Engine:
    """Attach the keys to ``engine`` (in place): its writers tag and its sealer seals with them."""
    engine.update_execution_options(**{OPTION: keys})
    return engine


def keys_of(conn: Connection | Engine) -> AuditKeys | None:
    """The keys attached to the engine behind ``conn`` (None: plain hashes)."""
    keys = conn.get_execution_options().get(OPTION)
    return keys if isinstance(keys, AuditKeys) else None
