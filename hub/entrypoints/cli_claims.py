"""``rxhub switch-connector``, ``rxhub switch-sim`` and ``rxhub claims reconcile``: claims through switches."""

from __future__ import annotations

import argparse
import signal
import ssl
import threading
from pathlib import Path
from typing import Any

from hub.config import Settings
from hub.entrypoints import preflight
from hub.entrypoints.runtime import declare_topology, open_database, topology_for
from hub.errors import ConfigurationError
from hub.persistence.claim_reconciliation import reconcile
from hub.security.tls import server_context


def register(sub: Any) -> None:
    """Add the switch and reconciliation commands to the main parser."""
    connector = sub.add_parser("switch-connector", help="carry claims to payer switches (RXHUB_SWITCH_ROUTES)")
    connector.set_defaults(func=switch_connector)
    sim = sub.add_parser("switch-sim", help="a simulated switch in front of the simulated payer (real TCP)")
    sim.add_argument("--host", default="127.0.0.1")
    sim.add_argument("--port", type=int, default=7301)
    sim.add_argument("--framing", choices=("stx-etx", "length-prefix"), default="stx-etx")
    sim.add_argument("--config", type=Path, help="payer plan data file (default: hub/data/payer-sim.json)")
    sim.add_argument("--tls-cert", type=Path, help="serve TLS with this certificate (and --tls-key)")
    sim.add_argument("--tls-key", type=Path)
    sim.add_argument("--fault", choices=("none", "drop", "late", "down"), default="none")
    sim.add_argument("--late-ms", type=int, default=3000, help="with --fault late: answer after this long")
    sim.add_argument("--failover-port", type=int, help="also listen here as switch 'failover' (same payer)")
    sim.add_argument("--journal", type=Path, help="the payer's decisions, kept and replayed across restarts")
    sim.add_argument("--control", type=Path, help="fault knob file polled while running (see sim_control.py)")
    sim.set_defaults(func=switch_sim)
    claims = sub.add_parser("claims", help="the claim ledger").add_subparsers(required=True, metavar="ACTION")
    reconcile = claims.add_parser("reconcile", help="where the ledger and the payer's answers disagree")
    reconcile.add_argument("--since-hours", type=float, default=24.0, help="fills with traffic this recent")
    reconcile.set_defaults(func=claims_reconcile)


def _stop_on_signals() -> threading.Event:
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    return stop


def switch_connector(_args: argparse.Namespace, settings: Settings) -> int:
    """Run the switch connector until stopped."""
    # lazy: the adapters load only for the commands that run them
    from adapters.ncpdp.switch import SwitchConnector, load_routing_table

    if settings.switch_routes is None:
        print("RXHUB_SWITCH_ROUTES is not set: there is no switch to send claims to")
        return 2
    try:
        preflight.check(settings, doors=False, workers=True)
    except ConfigurationError as exc:
        print(f"configuration: {exc}")
        return 2
    engine = open_database(settings, wait=True)
    declare_topology(settings)
    connector = SwitchConnector(
        settings.amqp_url.get_secret_value(), topology_for(settings), load_routing_table(settings.switch_routes), engine
    )
    connector.run(_stop_on_signals())
    return 0


def switch_sim(args: argparse.Namespace, settings: Settings) -> int:
    """Run a simulated switch until stopped."""
    # lazy: the adapters load only for the commands that run them
    from adapters.ncpdp.payer import load_payer_config
    from adapters.ncpdp.switch import Fault, Framing, SwitchSimulator, run_switch_sim
    from adapters.ncpdp.switch.payer_journal import JournaledPayer, LockedPayer
    from adapters.ncpdp.switch.sim_control import SimControl

    context: ssl.SSLContext | None = None
    if args.tls_cert is not None:
        context = server_context(args.tls_cert, args.tls_key or args.tls_cert)
    config = load_payer_config(args.config or settings.payer_sim_config)
    payer = JournaledPayer(config, args.journal) if args.journal is not None else LockedPayer(config)
    ports = {"primary": args.port, **({"failover": args.failover_port} if args.failover_port else {})}
    simulators = [
        SwitchSimulator(
            config,
            host=args.host,
            port=port,
            framing=Framing(args.framing),
            tls=context,
            fault=Fault(args.fault) if name == "primary" else Fault.NONE,
            late_ms=args.late_ms,
            payer=payer,
            name=name,
        )
        for name, port in ports.items()
    ]
    control = SimControl(args.control, simulators) if args.control is not None else None
    run_switch_sim(simulators, _stop_on_signals(), control=control)
    return 0


def claims_reconcile(args: argparse.Namespace, settings: Settings) -> int:
    """Print every fill where the ledger and the payer's answers disagree; exit 1 when there is one."""
    found = reconcile(open_database(settings), since_hours=args.since_hours)
    for item in found:
        print(f"{item.prescription_id} fill {item.fill_number}: {item.problem}")
    print(f"{len(found)} disagreement(s)")
    return 1 if found else 0
