"""The simulated payer behind ``rxhub switch-sim``, with a memory that outlives the switch process.

A real payer does not forget what it paid when a switch in front of it restarts; the in-process simulator
keeps its claim history in memory, so killing the switch would make it forget. With a journal, every claim
the payer decided is appended (one JSON line, flushed to the OS before the answer leaves) and replayed
through a fresh simulator on start. The simulator decides by the order of claims alone (sequential
authorization numbers, every n-th answer dropped), so the replay rebuilds the same history. A kill between
the decision and the journal line loses that decision, and the answer was never sent: to the hub it is a
claim that never reached the payer, which its status-unknown path already handles.

The journal is also the payer's own record of what it decided, which the chaos auditor reads.
"""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Protocol

from adapters.ncpdp.payer.config import PayerConfig
from adapters.ncpdp.payer_link.simulator import PayerSimulator, SimAnswer


class Payer(Protocol):
    """What a simulated switch hands claims to."""

    def answer(self, body: bytes, *, switch: str, fault: str) -> SimAnswer:
        """The payer's answer to one claim carried by ``switch`` under ``fault`` (None: no answer comes back)."""
        ...


@dataclass(frozen=True)
class JournalEntry:
    """One claim the payer decided: the request bytes and the simulator's summary of its decision."""

    request: bytes
    summary: str
    #: which listener (switch) carried it, and the fault it applied
    switch: str
    fault: str


class LockedPayer:
    """The in-memory simulator, one claim at a time (the switch serves each connection on its own thread)."""

    def __init__(self, config: PayerConfig) -> None:
        self._simulator = PayerSimulator(config)
        self._lock = threading.Lock()

    def answer(self, body: bytes, *, switch: str = "-", fault: str = "none") -> SimAnswer:
        """Adjudicate one claim."""
        with self._lock:
            return self._simulator.answer(body)


class JournaledPayer:
    """The simulator whose every decision is appended to ``path`` and replayed from it on start."""

    def __init__(self, config: PayerConfig, path: Path) -> None:
        self._simulator = PayerSimulator(config)
        self._lock = threading.Lock()
        self.replayed = 0
        for entry in read_journal(path):
            self._simulator.answer(entry.request)
            self.replayed += 1
        self._file: IO[str] = path.open("a", encoding="utf-8")
        if not _ends_a_line(path):
            self._file.write("\n")  # end a line torn by a kill, so the next decision starts a line of its own

    def answer(self, body: bytes, *, switch: str = "-", fault: str = "none") -> SimAnswer:
        """Adjudicate one claim and journal the decision before anyone can see the answer."""
        with self._lock:
            answer = self._simulator.answer(body)
            line = {
                "request": base64.b64encode(body).decode("ascii"),
                "summary": answer.summary,
                "switch": switch,
                "fault": fault,
            }
            self._file.write(json.dumps(line) + "\n")
            # flushed to the OS: a SIGKILL after this keeps the line (only a machine crash would lose it)
            self._file.flush()
            return answer

    def close(self) -> None:
        """Close the journal file."""
        with self._lock:
            self._file.close()


def read_journal(path: Path) -> Iterator[JournalEntry]:
    """The journal's entries in order; a torn last line (the process killed mid-write) is skipped."""
    if not path.exists():
        return
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            try:
                item = json.loads(line)
                yield JournalEntry(
                    base64.b64decode(item["request"]), item["summary"], item.get("switch", "-"), item.get("fault", "")
                )
            except (ValueError, KeyError):
                continue


def _ends_a_line(path: Path) -> bool:
    with path.open("rb") as raw:
        if raw.seek(0, 2) == 0:
            return True
        raw.seek(-1, 2)
        return raw.read(1) == b"\n"
