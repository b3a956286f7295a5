"""Faults on the claim path through the switch: connectors and the switch killed, the switch answering late,
dropping connections mid-claim, or down (so the route's failover switch carries the claims).

The late, drop and down faults go through the switch simulator's control file while it runs; each waits for
the simulator to report the change applied (and the faulted claims passed, or a bound when claims stop
coming), then puts the switch back to normal before the next fault.
"""

from __future__ import annotations

import json
import os
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from adapters.ncpdp.switch.connector import SWITCH_CONNECTOR_STEP
from adapters.ncpdp.switch.sim_control import read_state
from tests.chaos.environment import ChaosEnvironment
from tests.chaos.processes import HubProcesses, wait_for_consumers, wait_for_switch

#: claims a late or drop fault hits before the switch behaves again
FAULTED_CLAIMS = 3


@dataclass
class SwitchFaults:
    """The switch path's faults for the fault controller."""

    env: ChaosEnvironment
    hub: HubProcesses
    random: random.Random = field(default_factory=random.Random)
    seq: int = 0

    def actions(self) -> dict[str, Callable[[], None]]:
        """Fault kind -> how to inject it."""
        return {
            "switch-connector-killed": self.kill_connector,
            "switch-killed": self.kill_switch,
            "switch-answers-late": self.answer_late,
            "switch-drops-connection": self.drop_connections,
            "switch-down-failover": self.primary_down,
            "payer-silent": self.freeze_switch,
        }

    def kill_connector(self) -> None:
        """SIGKILL one switch connector mid-claim and start it again."""
        name = self.random.choice(self.hub.connectors())
        self.hub.kill(name)
        time.sleep(self.random.uniform(0.3, 1.5))
        self.hub.start(name)
        wait_for_consumers(self.env, f"{self.env.prefix}.{SWITCH_CONNECTOR_STEP}", len(self.hub.connectors()))

    def kill_switch(self) -> None:
        """SIGKILL the switch simulator (both listeners): connections drop mid-claim, then are refused."""
        self.hub.kill("switch-sim")
        time.sleep(self.random.uniform(0.5, 2.0))
        self.hub.start("switch-sim")
        wait_for_switch(self.env)

    def freeze_switch(self) -> None:
        """SIGSTOP the switch past the connectors' answer timeout: the claims in flight go status-unknown."""
        self.hub.pause("switch-sim")
        try:
            time.sleep(self.env.payer_timeout_ms / 1000 * 0.6)
        finally:
            self.hub.resume("switch-sim")

    def answer_late(self) -> None:
        """The next few claims are answered after the connector has given up on them."""
        self._faulted_claims({"fault": "late", "times": FAULTED_CLAIMS, "late_ms": self.env.payer_timeout_ms})

    def drop_connections(self) -> None:
        """The payer decides the next few claims, and the switch hangs up before answering."""
        self._faulted_claims({"fault": "drop", "times": FAULTED_CLAIMS})

    def primary_down(self, outage_s: float = 3.0) -> None:
        """The route's switch refuses connections for a while: its failover switch carries the claims."""
        self._knob({"primary": {"fault": "down"}}, lambda s: not s["primary"]["listening"])
        try:
            time.sleep(outage_s)
        finally:
            self._knob({"primary": {"fault": "none"}}, lambda s: s["primary"]["listening"])

    def reset(self) -> None:
        """Both listeners up and behaving (after the run's last fault)."""
        self._knob({"primary": {"fault": "none"}, "failover": {"fault": "none"}}, lambda s: True)

    def _faulted_claims(self, knob: dict[str, Any], bound_s: float = 30.0) -> None:
        self._knob({"primary": knob}, lambda s: True)
        consumed = _wait(lambda: read_state(self.env.switch_control)["switches"]["primary"]["fault"] == "none", bound_s)
        if not consumed:  # claims stopped coming (the load is over): do not leave the fault for the settle phase
            self._knob({"primary": {"fault": "none"}}, lambda s: True)

    def _knob(self, switches: dict[str, Any], applied: Callable[[dict[str, Any]], bool], bound_s: float = 30.0) -> None:
        self.seq += 1
        control = self.env.switch_control
        partial = control.with_name(control.name + ".tmp")
        partial.write_text(json.dumps({"seq": self.seq, "switches": switches}), encoding="utf-8")
        os.replace(partial, control)

        def done() -> bool:
            state = read_state(control)
            return state.get("seq", -1) >= self.seq and applied(state["switches"])

        if not _wait(done, bound_s):
            raise RuntimeError(f"the switch simulator did not apply control seq {self.seq} within {bound_s}s")


def _wait(condition: Callable[[], bool], bound_s: float) -> bool:
    deadline = time.monotonic() + bound_s
    while time.monotonic() < deadline:
        try:
            if condition():
                return True
        except (KeyError, TypeError):
            pass  # no state written yet
        time.sleep(0.05)
    return False
