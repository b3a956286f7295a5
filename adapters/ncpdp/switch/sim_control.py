"""The switch simulator's run-time fault knob: a JSON control file it polls, and a state file it writes back.

A test or the chaos run changes how a running ``rxhub switch-sim`` behaves without restarting it (a restart
would itself be a fault) by writing the control file, for example::

    {"seq": 7, "switches": {"primary": {"fault": "late", "times": 2, "late_ms": 1500}}}

Each named switch takes ``fault`` (``none``, ``drop``, ``late``, ``down``), ``times`` (how many claims the
drop or late fault hits; absent: every claim until changed) and ``late_ms``. The simulator writes
``<control>.state`` with the ``seq`` it applied and each switch's fault, remaining ``times`` and counts, so
the writer can wait for the change to take effect, and for the faulted claims to have passed, instead of
sleeping.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from adapters.ncpdp.switch.simulator import Fault, SwitchSimulator

log = logging.getLogger(__name__)


def state_path(control: Path) -> Path:
    """Where the simulator reports what it applied."""
    return control.with_name(control.name + ".state")


class SimControl:
    """Applies the control file to the named switches whenever the file changes."""

    def __init__(self, path: Path, switches: Sequence[SwitchSimulator]) -> None:
        self.path = path
        self.switches = {s.name: s for s in switches}
        self._seen: tuple[int, int] | None = None
        self._applied = 0
        self._reported: dict[str, Any] | None = None

    def poll(self) -> None:
        """Apply a changed control file, then report the switches' state when it changed."""
        try:
            stat = self.path.stat()
        except FileNotFoundError:
            stat = None
        mark = (stat.st_mtime_ns, stat.st_size) if stat else None
        if mark is not None and mark != self._seen:
            self._seen = mark
            self._apply()
        self._report()

    def _apply(self) -> None:
        try:
            wanted = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:  # a half-written file: the next poll reads the whole one
            log.warning("switch-sim control file %s unreadable: %s", self.path, exc)
            self._seen = None
            return
        for name, knob in (wanted.get("switches") or {}).items():
            switch = self.switches.get(name)
            if switch is None:
                log.warning("switch-sim control file names unknown switch %r", name)
                continue
            fault = Fault(knob.get("fault", "none"))
            switch.set_fault(fault, times=knob.get("times"), late_ms=knob.get("late_ms"))
            log.info("switch-sim %s: fault %s (times %s)", name, fault, knob.get("times"))
        self._applied = int(wanted.get("seq", 0))

    def _report(self) -> None:
        state = {"seq": self._applied, "switches": {n: _state_of(s) for n, s in self.switches.items()}}
        if state == self._reported:
            return
        target = state_path(self.path)
        partial = target.with_name(target.name + ".tmp")
        partial.write_text(json.dumps(state), encoding="utf-8")
        os.replace(partial, target)  # a reader never sees half a state
        self._reported = state


def _state_of(switch: SwitchSimulator) -> dict[str, Any]:
    return {
        "fault": switch.fault.value,
        "times": switch.fault_times,
        "listening": switch.listening,
        "adjudicated": switch.adjudicated,
        "answered": switch.answered,
        "late_answers": switch.late_answers,
        "dropped": switch.dropped,
    }


def read_state(control: Path) -> dict[str, Any]:
    """The simulator's last report (empty before its first)."""
    try:
        return dict(json.loads(state_path(control).read_text(encoding="utf-8")))
    except (OSError, ValueError):
        return {}
