"""``make cluster``: orders flow through HAProxy to two hub instances on a three-node RabbitMQ cluster while
nodes (the intake leader's and the hub's own included), an instance and a worker are killed; then the chaos
run's auditor reports.

    .venv/bin/python -m tests.cluster.run                                  # 600 orders over 120 s
    .venv/bin/python -m tests.cluster.run --orders 16000 --duration 1800  # the long form

Never touches the node on 5672: the three nodes are private (own names, ports, files, cookie) and stopped,
the database dropped and the temporary folder removed at the end.  Exits 1 when any acknowledged order was
lost, stored twice, left stuck, billed twice or published twice, when a sender gave up on an order, or when a
quorum queue lacks a member.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
import uuid
from collections import Counter
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

from hub.entrypoints.runtime import declare_topology, open_database
from hub.persistence.users import UserStore
from tests.chaos.auditor import Evidence, Report, audit
from tests.chaos.environment import free_port
from tests.chaos.load import LoadGenerator, LoadPlan
from tests.chaos.payer_view import read_payer_log
from tests.chaos.run import settle
from tests.chaos.taps import bind_taps, drain, tap_names
from tests.cluster.balancer import Balancer, Instance
from tests.cluster.environment import ClusterEnvironment, broker_list_setting, fresh_database, work_folder
from tests.cluster.faults import ClusterFaults
from tests.cluster.hub import start_cluster_hub
from tests.cluster.rabbit_nodes import RabbitCluster


@dataclass(frozen=True)
class ClusterPlan:
    """One run's size and shape."""

    orders: int = 600
    duration_s: float = 120.0
    instances: int = 2
    worker_processes: int = 2
    mllp_senders: int = 6
    fhir_senders: int = 2
    fault_interval_s: float = 5.0
    outage_s: float = 10.0
    settle_s: float = 240.0
    brokers: str = "auto"  # auto | list | haproxy
    keep: Path | None = None


def run_cluster(plan: ClusterPlan, say: bool = True) -> Report:
    """Set up the cluster, balancer, database and hub; load, inject, settle, audit; tear everything down."""
    started = time.monotonic()
    root = work_folder(plan.keep)
    with ExitStack() as teardown:
        if plan.keep is None:
            teardown.callback(shutil.rmtree, root, ignore_errors=True)
        database_name, database_url = teardown.enter_context(fresh_database())
        cluster = RabbitCluster(root / "rabbitmq")
        teardown.callback(cluster.stop_all)
        cluster.form()
        list_setting = _list_setting(plan.brokers)
        instances = [Instance(f"serve-{n}", free_port(), free_port()) for n in range(1, plan.instances + 1)]
        balancer = Balancer(
            root,
            instances,
            brokers=[(f"c{n.index}", n.port) for n in cluster.nodes],
            front_brokers=list_setting is None,
        )
        teardown.callback(balancer.stop)
        balancer.start()
        harness_url = (
            cluster.nodes[0].url if list_setting else f"amqp://guest:guest@127.0.0.1:{balancer.broker_port}/%2F"
        )
        env = ClusterEnvironment(
            vhost="/",
            amqp_url=harness_url,
            database_url=database_url,
            database_name=database_name,
            prefix=f"cluster{uuid.uuid4().hex[:8]}",
            workdir=root,
            mllp_port=balancer.mllp_port,
            http_port=balancer.http_port,
            node_urls=tuple(n.url for n in cluster.nodes),
            list_setting=list_setting,
        )
        _say(
            say,
            f"3 nodes up under {root}; brokers via {list_setting or 'HAProxy'}; "
            f"doors via HAProxy {balancer.mllp_port}/{balancer.http_port}",
        )
        settings = env.settings()
        topology = declare_topology(settings)
        bind_taps(env.amqp_url, topology)
        leaders_declared = Counter(leader for leader, _ in cluster.queue_members(env.prefix).values())
        cluster.ctl(cluster.nodes[0], "rebalance", "quorum", tool="rabbitmq-queues")
        members = cluster.queue_members(env.prefix)
        engine = open_database(settings)
        teardown.callback(engine.dispose)
        _, token = UserStore(engine).add("cluster-feed", "feed")
        hub = start_cluster_hub(env, instances, plan.worker_processes)
        stop_hub = teardown.callback(hub.stop)
        faults = ClusterFaults(cluster, hub, f"{env.prefix}.intake", plan.fault_interval_s, plan.outage_s)
        teardown.callback(faults.stop)  # on any failure, before the hub and the nodes are stopped
        _say(
            say,
            f"hub up; sending {plan.orders} orders from {plan.mllp_senders + plan.fhir_senders} senders "
            f"over {plan.duration_s:.0f}s",
        )
        faults.start()
        load = LoadGenerator(
            LoadPlan(plan.orders, plan.duration_s, plan.mllp_senders, plan.fhir_senders),
            balancer.mllp_port,
            balancer.http_port,
            token,
        )
        ledger = load.run()
        faults.stop()
        _say(say, f"load done after {time.monotonic() - started:.0f}s; faults {dict(faults.injected)}; settling")
        crashed = hub.dead()
        settled = settle(env, engine, topology, ledger, plan.settle_s)
        stop_hub()
        events_tap, claims_tap = tap_names(topology)
        evidence = Evidence(
            ledger,
            engine,
            drain(env.amqp_url, events_tap, parse_json=True),
            drain(env.amqp_url, claims_tap, parse_json=False),
            read_payer_log(root / "payer-sim.log"),
            env.amqp_url,
            topology,
            faults.injected,
            faults.failed,
            crashed,
        )
        report = audit(evidence)
        _availability(report, ledger.gave_up)
        _cluster_figures(report, cluster, env.prefix, members, leaders_declared, list_setting, plan)
        report.figures["settled (hub quiet)"] = f"{settled:.0f}s after the load" if settled >= 0 else "NO (timed out)"
        report.figures["process restarts"] = {n: c.starts - 1 for n, c in hub.children.items()}
        report.figures["elapsed"] = f"{time.monotonic() - started:.0f}s"
    return report


def _list_setting(brokers: str) -> str | None:
    found = broker_list_setting()
    if brokers == "list" and found is None:
        raise SystemExit("--brokers list: this hub takes a single broker URL; use --brokers haproxy")
    return None if brokers == "haproxy" else found


def _availability(report: Report, never_acked: dict[str, str]) -> None:
    """With one node of three down at a time, every order must be accepted in the end: a sender that gave up
    means the hub stayed unavailable to it for its whole patience (two minutes)."""
    if never_acked:
        report.fail(f"{len(never_acked)} order(s) never acknowledged", sorted(never_acked))


def _cluster_figures(
    report: Report,
    cluster: RabbitCluster,
    prefix: str,
    members: dict[str, tuple[str, int]],
    leaders_declared: Counter[str],
    list_setting: str | None,
    plan: ClusterPlan,
) -> None:
    short = [m for m in members.values() if m[1] < cluster.size]
    report.figures["brokers"] = (
        f"{cluster.size} nodes, hub given the list ({list_setting})"
        if list_setting
        else f"{cluster.size} nodes behind HAProxy (the hub takes one URL)"
    )
    report.figures["instances"] = f"{plan.instances} serve + {plan.worker_processes} worker behind HAProxy"
    report.figures["quorum queues"] = f"{len(members)}, {len(members) - len(short)} with {cluster.size} members"
    report.figures["leaders as declared"] = dict(leaders_declared)
    report.figures["leaders after rebalance"] = dict(Counter(leader for leader, _ in members.values()))
    report.figures["leaders at the end"] = dict(Counter(leader for leader, _ in cluster.queue_members(prefix).values()))
    report.figures["node restarts"] = {n.name: n.starts - 1 for n in cluster.nodes}
    if short or not members:
        report.fail(f"{len(short)} quorum queue(s) without {cluster.size} members (or none found)")


def _say(enabled: bool, text: str) -> None:
    if enabled:
        print(f"[cluster] {text}", flush=True)


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, run, print the report; exit 1 on any failed check."""
    parser = argparse.ArgumentParser(prog="tests.cluster.run", description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=600)
    parser.add_argument("--duration", type=float, default=120.0, help="seconds over which orders are sent")
    parser.add_argument("--instances", type=int, default=2, help="serve instances behind HAProxy")
    parser.add_argument("--workers", type=int, default=2, help="worker processes, each running every step")
    parser.add_argument("--fault-interval", type=float, default=5.0, help="seconds between faults")
    parser.add_argument("--outage", type=float, default=10.0, help="seconds a node stays down")
    parser.add_argument("--settle", type=float, default=240.0, help="seconds to wait for the hub to go quiet")
    parser.add_argument(
        "--brokers",
        choices=["auto", "list", "haproxy"],
        default="auto",
        help="how the hub reaches the nodes: its list setting (auto when it has one) or HAProxy",
    )
    parser.add_argument("--keep", type=Path, help="run in (and keep) this folder: node logs, hub logs, haproxy.cfg")
    args = parser.parse_args(argv)
    plan = ClusterPlan(
        args.orders,
        args.duration,
        args.instances,
        args.workers,
        fault_interval_s=args.fault_interval,
        outage_s=args.outage,
        settle_s=args.settle,
        brokers=args.brokers,
        keep=args.keep,
    )
    report = run_cluster(plan)
    print(report.render().replace("RxHub chaos report", "RxHub cluster report"), flush=True)
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
