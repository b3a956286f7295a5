"""Signed anchors of the audit chain's head, written outside the database (a file, or syslog).

The chain's links show an edit in the middle; cutting entries off the end, or replacing the chain wholesale
by someone who holds the key, shows only against a head noted earlier somewhere the database's writers
cannot reach. An anchor is one JSON line ``{"seq", "hash", "at", "key_id", "sig"}``, ``sig`` the HMAC of the
rest under the audit key (so a line added to the file by hand is caught too). ``rxhub audit anchor`` writes
one; ``rxhub run``/``serve`` every ``RXHUB_AUDIT_ANCHOR_INTERVAL_S``; ``rxhub audit verify --anchors FILE``
checks that every anchored entry is still in the chain with its hash.
"""

from __future__ import annotations

import json
import logging
import os
import syslog
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from hub.errors import ConfigurationError
from hub.security.audit_keys import AuditKeys

log = logging.getLogger(__name__)

SYSLOG = "syslog"
#: the file anchors go to when no target is set, in the data directory
DEFAULT_FILE = "audit-anchors.jsonl"


class Anchor(BaseModel):
    """One signed head of the chain."""

    model_config = ConfigDict(frozen=True)
    seq: int
    hash: str
    at: str
    key_id: str
    sig: str = ""

    def payload(self) -> bytes:
        """What the signature covers."""
        body = {"seq": self.seq, "hash": self.hash, "at": self.at, "key_id": self.key_id}
        return b"anchor:" + json.dumps(body, sort_keys=True, separators=(",", ":")).encode()


def signed(seq: int, head_hash: str, keys: AuditKeys, at: datetime | None = None) -> Anchor:
    """An anchor of entry ``seq`` with ``head_hash``, signed with the sealing key."""
    stamp = (at or datetime.now(UTC)).isoformat(timespec="seconds")
    unsigned = Anchor(seq=seq, hash=head_hash, at=stamp, key_id=keys.sealing_id)
    return unsigned.model_copy(update={"sig": keys.mac(unsigned.payload())})


def signature_holds(anchor: Anchor, keys: AuditKeys | None) -> bool:
    """Whether the anchor was signed with one of ``keys``."""
    return keys is not None and keys.holds(anchor.payload(), anchor.sig, anchor.key_id)


def write(anchor: Anchor, target: str) -> None:
    """Append the anchor to the file ``target`` (made 0600), or send it to syslog (``target == "syslog"``)."""
    line = anchor.model_dump_json()
    if target == SYSLOG:
        syslog.openlog("rxhub-audit", 0, syslog.LOG_AUTH)
        syslog.syslog(syslog.LOG_NOTICE, f"audit-anchor {line}")
        return
    path = Path(target)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    with os.fdopen(fd, "a", encoding="utf-8") as out:
        out.write(line + "\n")
        out.flush()
        os.fsync(out.fileno())


def read(path: Path) -> list[Anchor | str]:
    """The anchors of a file, in order; a line that is not an anchor comes back as a string saying so."""
    found: list[Anchor | str] = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        text = line.split("audit-anchor ", 1)[-1].strip()  # a line copied from syslog keeps its prefix
        if not text:
            continue
        try:
            found.append(Anchor.model_validate_json(text))
        except ValidationError:
            found.append(f"line {number} is not an anchor")
    return found


def target(configured: str | None, data_dir: Path) -> str:
    """Where anchors go: the setting, else the default file in the data directory."""
    return configured or str(Path(data_dir).expanduser() / DEFAULT_FILE)


class AnchorWriter:
    """Writes an anchor every ``interval_s`` while the hub runs (``take`` reads and signs the head)."""

    def __init__(self, take: Any, destination: str, interval_s: float) -> None:
        self._take, self._target, self._interval_s = take, destination, interval_s

    def run(self, stop: threading.Event) -> None:
        """Anchor until ``stop``; a failure is logged and retried at the next interval."""
        failing = False
        while not stop.wait(self._interval_s):
            try:
                anchor = self._take()
                if anchor is not None:
                    write(anchor, self._target)
                failing = False
            except (OSError, ConfigurationError, RuntimeError) as exc:
                if not failing:
                    log.warning("audit anchor not written (will try again): %s", exc)
                failing = True
