"""The SCRIPT outbound queues, added to the hub's topology so every (re)connect declares them.

<prefix>.events ──prescription.cancelled, renewal.requested, order.refused──▶ <prefix>.script-outbound (responder)
responder ──▶ <prefix>.script-out (topic exchange, routing key = SCRIPT transaction)
          ──#──▶ <prefix>.script-out (queue a prescriber connector delivers from)
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from hub.messaging.topology import Queue, Topology

#: the ConsumerRunner step name of the responder (logs, dead-letter routing key)
RESPONDER_STEP = "script-outbound"
#: the events the responder turns into SCRIPT messages
RESPONDER_EVENTS = ("prescription.cancelled", "renewal.requested", "order.refused")


@dataclass(frozen=True)
class ScriptOutTopology(Topology):
    """The hub topology plus the responder's queue and the script-out exchange and queue."""

    @classmethod
    def of(cls, topology: Topology) -> ScriptOutTopology:
        """The same names and settings as ``topology``, with the SCRIPT outbound parts added."""
        return cls(**{f.name: getattr(topology, f.name) for f in fields(topology)})

    @property
    def responder_queue(self) -> str:
        """Events waiting to become SCRIPT messages."""
        return f"{self.prefix}.{RESPONDER_STEP}"

    @property
    def script_out_exchange(self) -> str:
        """Where outbound SCRIPT messages are published, routing key = transaction name."""
        return f"{self.prefix}.script-out"

    @property
    def script_out_queue(self) -> str:
        """Outbound SCRIPT messages waiting for a prescriber connector."""
        return f"{self.prefix}.script-out"

    def exchanges(self) -> list[tuple[str, str]]:
        """The hub's exchanges and script-out."""
        return [*super().exchanges(), (self.script_out_exchange, "topic")]

    def queues(self) -> list[Queue]:
        """The hub's queues, the responder's and script-out (quorum: replicated, survive restarts)."""
        return [*super().queues(), Queue(self.responder_queue), Queue(self.script_out_queue)]

    def bindings(self) -> list[tuple[str, str, str]]:
        """The hub's bindings, the responder's events and everything on script-out."""
        own = [(self.events_exchange, self.responder_queue, event) for event in RESPONDER_EVENTS]
        return [*super().bindings(), *own, (self.script_out_exchange, self.script_out_queue, "#")]
