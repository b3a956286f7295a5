"""``make chaos``: orders flow over MLLP and FHIR while faults hit the hub; then the auditor reports.

    .venv/bin/python -m tests.chaos.run --orders 300 --duration 60            # the short form (CI)
    .venv/bin/python -m tests.chaos.run --orders 2000 --duration 300 --full   # adds one broker app restart

Exits 1 when any acknowledged order was lost, stored twice, left stuck, billed twice or published twice.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pika.exceptions as pe
from sqlalchemy import Engine, func, select

from adapters.ncpdp.payer_link.simulator import PAYER_SIM_STEP
from adapters.ncpdp.switch.connector import SWITCH_CONNECTOR_STEP
from hub.entrypoints.runtime import declare_topology, open_database
from hub.errors import BrokerUnavailable
from hub.messaging.blocking_publisher import connect
from hub.messaging.topology import Topology
from hub.persistence.tables import claim_transmissions, outbox, prescriptions
from hub.persistence.users import UserStore
from tests.chaos.auditor import RESTING_STATES, Evidence, Report, audit
from tests.chaos.environment import ChaosEnvironment, chaos_environment
from tests.chaos.faults import FaultController
from tests.chaos.load import Ledger, LoadGenerator, LoadPlan
from tests.chaos.payer_view import read_payer_journal
from tests.chaos.processes import start_hub
from tests.chaos.taps import bind_taps, drain, tap_names


@dataclass(frozen=True)
class ChaosPlan:
    """One run's size and shape."""

    orders: int = 300
    duration_s: float = 60.0
    full: bool = False
    database: str = "postgres"
    worker_processes: int = 2
    fault_interval_s: float = 5.0
    settle_s: float = 180.0
    workdir: Path | None = None
    #: leave the PostgreSQL database for a post-mortem (its name is printed; drop it yourself)
    keep_database: bool = False


def run_chaos(plan: ChaosPlan, say: bool = True) -> Report:
    """Set up, load, inject, settle, audit, clean up; returns the report.

    The payer timeout is 8 s: a claim now waits in the connectors' queue and crosses a TCP switch, and a
    shorter timeout on a busy machine turned most claims status-unknown before they had even left.
    """
    started = time.monotonic()
    keep = plan.workdir is not None
    with chaos_environment(
        plan.database, plan.workdir, keep_workdir=keep, keep_database=plan.keep_database, payer_timeout_ms=8000
    ) as env:
        settings = env.settings()
        topology = declare_topology(settings)
        bind_taps(env.amqp_url, topology)
        engine = open_database(settings)
        _, token = UserStore(engine).add("chaos-feed", "feed")
        hub = start_hub(env, worker_processes=plan.worker_processes, connector_processes=3)
        where = f"{env.workdir} ({env.backend} {env.database_name or ''})"
        _say(say, f"hub up in {where}; sending {plan.orders} orders over {plan.duration_s}s")
        faults = FaultController(
            env, hub, interval_s=plan.fault_interval_s, broker_restart_at_s=plan.duration_s / 2 if plan.full else None
        )
        rss_before = hub.rss()
        try:
            faults.start()
            load = LoadGenerator(LoadPlan(plan.orders, plan.duration_s), env.mllp_port, env.http_port, token)
            ledger = load.run()
            faults.stop()
            _say(say, f"load done after {time.monotonic() - started:.0f}s; faults {dict(faults.injected)}; settling")
            crashed = hub.dead()
            settled = settle(env, engine, topology, ledger, plan.settle_s, SWITCH_CONNECTOR_STEP)
            rss_after = hub.rss()
        finally:
            hub.stop()
        events_tap, claims_tap = tap_names(topology)
        faults.injected["mllp-hangup-before-ack"] = ledger.counts["mllp hung up before the ACK, then resent"]
        evidence = Evidence(
            ledger,
            engine,
            drain(env.amqp_url, events_tap, parse_json=True),
            drain(env.amqp_url, claims_tap, parse_json=False),
            read_payer_journal(env.payer_journal, _rx_numbers(engine)),
            env.amqp_url,
            topology,
            faults.injected,
            faults.failed,
            crashed,
        )
        report = audit(evidence)
        report.figures["settled (hub quiet)"] = f"{settled:.0f}s after the load" if settled >= 0 else "NO (timed out)"
        report.figures["worker restarts"] = {n: c.starts - 1 for n, c in hub.children.items()}
        report.figures["RSS KiB before -> after"] = {n: f"{rss_before.get(n, 0)}->{kb}" for n, kb in rss_after.items()}
        report.figures["elapsed"] = f"{time.monotonic() - started:.0f}s"
        engine.dispose()
    return report


def _rx_numbers(engine: Engine) -> dict[str, str]:
    """Rx number -> prescription id (the payer knows fills by 402-D2 and 403-D3)."""
    with engine.connect() as conn:
        return {r.rx_number: r.id for r in conn.execute(select(prescriptions.c.rx_number, prescriptions.c.id))}


def settle(
    env: ChaosEnvironment,
    engine: Engine,
    topology: Topology,
    ledger: Ledger,
    timeout_s: float,
    claim_queue: str = PAYER_SIM_STEP,
) -> float:
    """Wait until every acknowledged order rests, every claim is answered (or timed out), the outbox is empty and
    no queue holds work.

    ``claim_queue`` is the step whose queue takes the claims (``switch-connector`` here, ``payer-sim`` where
    claims go straight to the payer simulator). Returns the seconds it took, or -1 on timeout (the audit then
    shows what is stuck).
    """
    started = time.monotonic()
    while time.monotonic() - started < timeout_s:
        if _quiet(env, engine, topology, ledger, claim_queue):
            return time.monotonic() - started
        time.sleep(1.0)
    return -1.0


def _quiet(env: ChaosEnvironment, engine: Engine, topology: Topology, ledger: Ledger, claim_queue: str) -> bool:
    with engine.connect() as conn:
        resting = conn.execute(
            select(func.count())
            .select_from(prescriptions)
            .where(
                prescriptions.c.placer_order_number.in_(list(ledger.acked)),
                prescriptions.c.state.in_(RESTING_STATES),
            )
        ).scalar_one()
        backlog = conn.execute(select(func.count()).select_from(outbox).where(outbox.c.published_at.is_(None)))
        # a claim still unanswered will time out and be reversed or resent: the hub is not done with it
        # and so is one whose reversal is scheduled to be sent again (a backoff retry, ``retry_at``)
        t = claim_transmissions.c
        unsettled = t.answered_at.is_(None) | t.retry_at.is_not(None)
        waiting = conn.execute(select(func.count()).select_from(claim_transmissions).where(unsettled))
        if resting < len(ledger.acked) or backlog.scalar_one() or waiting.scalar_one():
            return False
    queues = [q.name for q in topology.queues() if q.name != topology.dead_letter_queue]
    return _queued(env.amqp_url, [*queues, f"{topology.prefix}.{claim_queue}"]) == 0


def _queued(amqp_url: str, queues: list[str]) -> int:
    try:
        conn = connect(amqp_url, attempts=3)
    except BrokerUnavailable:
        return -1
    try:
        channel = conn.channel()
        return sum(int(channel.queue_declare(q, passive=True).method.message_count) for q in queues)
    except pe.AMQPError:
        return -1
    finally:
        if conn.is_open:
            conn.close()


def _say(enabled: bool, text: str) -> None:
    if enabled:
        print(f"[chaos] {text}", flush=True)


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, run, print the report; exit 1 on any failed check."""
    parser = argparse.ArgumentParser(prog="tests.chaos.run", description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=300)
    parser.add_argument("--duration", type=float, default=60.0, help="seconds over which orders are sent")
    parser.add_argument(
        "--full",
        action="store_true",
        help="also stop and start the RabbitMQ application once (affects the whole machine)",
    )
    parser.add_argument("--database", choices=["postgres", "sqlite"], default="postgres")
    parser.add_argument("--workers", type=int, default=2, help="worker processes, each running every step")
    parser.add_argument("--fault-interval", type=float, default=5.0)
    parser.add_argument("--settle", type=float, default=180.0, help="seconds to wait for the hub to go quiet")
    parser.add_argument("--keep", type=Path, help="keep logs in this folder")
    parser.add_argument("--keep-database", action="store_true", help="leave the run's PostgreSQL database behind")
    args = parser.parse_args(argv)
    plan = ChaosPlan(
        args.orders,
        args.duration,
        args.full,
        args.database,
        args.workers,
        args.fault_interval,
        args.settle,
        args.keep,
        args.keep_database,
    )
    report = run_chaos(plan)
    print(report.render(), flush=True)
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
