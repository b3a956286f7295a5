"""Claims to real payers through switches: D.0 over TCP/TLS with the switch's framing, routed by BIN/PCN."""

from adapters.ncpdp.switch.connector import SwitchConnector, connector_queue
from adapters.ncpdp.switch.framing import Framing, frame, read_frame
from adapters.ncpdp.switch.routing import Environment, Route, RoutingTable, SwitchEndpoint, load_routing_table
from adapters.ncpdp.switch.simulator import Fault, SwitchSimulator, run_switch_sim

__all__ = [
    "Environment",
    "Fault",
    "Framing",
    "Route",
    "RoutingTable",
    "SwitchConnector",
    "SwitchEndpoint",
    "SwitchSimulator",
    "connector_queue",
    "frame",
    "load_routing_table",
    "read_frame",
    "run_switch_sim",
]
