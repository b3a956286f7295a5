"""``make bench``: raw-broker baseline, HL7 and FHIR ingest at 1/8/32 senders, the workflow to READY, parse costs.

Two hubs in turn on the run's private vhost and database: first the ingest hub (as an EHR feed sees it:
HL7 over MLLP, FHIR over HTTP, and the sustained run), then the workflow hub, billed to the simulated
payer (``rxhub payer-sim``) with a scripted pharmacist approving through the staff API.

Exit status: 0 when every message sent got its AA (or 201) and is stored and announced exactly once, and
every workflow order reached READY once; 1 when any message was lost, refused or left unacknowledged, or a
hub process did not stop cleanly; 2 with ``--strict`` when the run was lossless but missed a target.
"""

from __future__ import annotations

import argparse
import http.client
import sys
import time
from collections.abc import Sequence

import pika

from bench.delivery import DeliveryWitness
from bench.environment import BenchEnvironment, bench_environment, fresh_database
from bench.event_tap import EventTap
from bench.hl7_load import SAMPLE
from bench.hub_process import (
    PAYER_GROUP,
    PAYER_SIM,
    Hub,
    HubShape,
    cpu_ms_per,
    cpu_snapshot,
    hub_total,
    machine_groups,
    started_hub,
    switch_snapshot,
    switches_per,
)
from bench.ingest import IngestRun, fhir_scenarios, hl7_scenarios, note_loss, sustained_scenario, tag
from bench.parse_costs import measure
from bench.profile import profile_table, profiled
from bench.raw_broker import raw_baseline
from bench.report import (
    BenchReport,
    ScenarioResult,
    machine_facts,
    parse_table,
    scenario_table,
    sustained_table,
    targets_table,
    workflow_table,
    write_json,
)
from bench.targets import evaluate
from bench.workflow import (
    PAYER_ENV,
    PAYER_TIMEOUT_MS,
    WorkflowPlan,
    WorkflowResult,
    batch_sizes,
    database_counters,
    per_order_counters,
    prepare_pharmacy,
    run_workflow,
)
from hub.messaging.topology import Topology
from hub.persistence.database import make_engine
from hub.persistence.users import UserStore

PIPELINE_WINDOW = 256


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="3 s per scenario, 150 workflow orders (~1.5 min)")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per scenario (default 10)")
    parser.add_argument(
        "--sustained",
        type=float,
        metavar="SECONDS",
        help="also run 70%% of the 8-sender peak for SECONDS (long form: 600)",
    )
    parser.add_argument(
        "--sustained-rate",
        type=float,
        metavar="MSG_S",
        help="pace the sustained run at this rate instead (to repeat an earlier run's pace)",
    )
    parser.add_argument("--senders", default="1,8,32", help="comma-separated HL7 sender counts (default 1,8,32)")
    parser.add_argument("--fhir-clients", default="1,8,32", help="comma-separated FHIR client counts; '' skips")
    parser.add_argument("--workflow-orders", type=int, help="orders in the workflow batch (default 600; 0 skips)")
    parser.add_argument("--workflow-senders", type=int, default=8, help="HL7 senders feeding the workflow")
    parser.add_argument("--pharmacists", type=int, default=4, help="approver connections of the scripted pharmacist")
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument(
        "--layout",
        choices=["all-in-one", "split", "inprocess"],
        default="all-in-one",
        help="rxhub run | K 'rxhub serve' + M 'rxhub worker <every step>' | threads of this process",
    )
    parser.add_argument(
        "--worker-processes",
        type=int,
        default=None,
        metavar="N",
        help="all-in-one only: 'rxhub run --worker-processes N' (workers forked off the listeners; "
        "default: rxhub run's own, 1 on two or more cores; 0: workers on threads beside them)",
    )
    parser.add_argument("--listeners", type=int, default=2, help="listener processes for --layout split")
    parser.add_argument(
        "--workers",
        type=int,
        default=1,
        help="worker processes for --layout split; 0 measures the doors alone (commands counted "
        "in the intake queue, then purged; no workflow)",
    )
    parser.add_argument("--copies", type=int, default=1, help="consumer threads per step per process")
    parser.add_argument("--log-level", default="INFO", help="hub log level (its logs go to the work folder)")
    parser.add_argument("--drain-timeout", type=float, default=300.0, help="seconds to wait for the hub to drain")
    parser.add_argument("--no-raw", action="store_true", help="skip the raw-broker baseline")
    parser.add_argument("--no-parse-costs", action="store_true", help="skip the parse cost table")
    parser.add_argument(
        "--profile", action="store_true", help="py-spy every hub process during each scenario (bench/results/profiles/)"
    )
    parser.add_argument("--strict", action="store_true", help="exit 2 when a target is missed")
    parser.add_argument("--keep-workdir", action="store_true", help="keep hub logs and database afterwards")
    return parser


def _counts(text: str) -> list[int]:
    return [int(n) for n in text.split(",") if n.strip()]


def main(argv: Sequence[str] | None = None) -> int:
    """Run every scenario, print the tables, write the JSON; see the module docstring for the exit status."""
    args = _parser().parse_args(argv)
    seconds = 3.0 if args.quick else args.duration
    if args.workflow_orders is None:
        args.workflow_orders = 150 if args.quick else 600
    report = BenchReport(machine=machine_facts(), options={**vars(args), "seconds_per_scenario": seconds})
    if not args.no_parse_costs:
        print("bench: parse costs...", flush=True)
        report.parse_costs = measure(0.02 if args.quick else 0.1)
    keep = [bool(args.keep_workdir)]
    with bench_environment(args.database, keep=keep) as env:
        _broker_scenarios(args, env, report, seconds)
        keep[0] = keep[0] or not report.lossless
    report.targets = evaluate(report, args.layout, args.database)
    return _finish(report, strict=args.strict)


def _shape(args: argparse.Namespace, extra_env: dict[str, str] | None = None) -> HubShape:
    return HubShape(
        layout=args.layout,
        log_level=args.log_level,
        listeners=args.listeners,
        workers=args.workers,
        copies=args.copies,
        worker_processes=args.worker_processes,
        extra_env=extra_env or {},
    )


def _broker_scenarios(args: argparse.Namespace, env: BenchEnvironment, report: BenchReport, seconds: float) -> None:
    from hub.entrypoints.runtime import declare_topology

    topology = declare_topology(env.settings(args.log_level))
    witness = DeliveryWitness(env.amqp_url, env.database_url, topology)
    witness.bind()
    try:
        if not args.no_raw:
            _raw_scenarios(env, report, seconds, sorted({*_counts(args.senders), *_counts(args.fhir_clients)}))
        with started_hub(
            env,
            _shape(args),
            intake_consumers=witness.intake_consumers,
            exit_codes=report.hub_exit_codes,
            prefix="ingest/",
        ) as hub:
            run = IngestRun(hub, witness, report, args, seconds)
            hl7_scenarios(run, _counts(args.senders))
            if _counts(args.fhir_clients):
                run.feed_token = _user(env, "feed")
                fhir_scenarios(run, _counts(args.fhir_clients))
            if args.sustained:
                sustained_scenario(run)
            report.final_rss_mb = {k: round(v / 1024, 1) for k, v in hub.rss_kb().items()}
        if _workflow_possible(args):
            _workflow(args, env, topology, witness, report)
    finally:
        witness.close()
    report.failures.extend(f"{name} exited with {code}" for name, code in report.hub_exit_codes.items() if code)


def _workflow_possible(args: argparse.Namespace) -> bool:
    """The workflow needs workers and a payer child process: not with the doors alone, nor in-process."""
    return args.workflow_orders > 0 and args.layout != "inprocess" and not (args.layout == "split" and not args.workers)


def _user(env: BenchEnvironment, role: str) -> str:
    """A user of ``role`` in the hub's database (the hub created the schema); its bearer token."""
    engine = make_engine(env.database_url)
    try:
        return UserStore(engine).add(f"bench.{role}.{tag().lower()}", role)[1]
    finally:
        engine.dispose()


def _workflow(
    args: argparse.Namespace, env: BenchEnvironment, topology: Topology, witness: DeliveryWitness, report: BenchReport
) -> None:
    print(
        f"bench: workflow to READY, {args.workflow_orders} orders from {args.workflow_senders} senders...", flush=True
    )
    payer_queue = f"{topology.prefix}.payer-sim"
    with fresh_database(env, args.database, "workflow") as fresh:
        with started_hub(
            fresh,
            _shape(args, PAYER_ENV),
            intake_consumers=witness.intake_consumers,
            exit_codes=report.hub_exit_codes,
            prefix="workflow/",
            payer_consumers=lambda: _consumers(witness, payer_queue),
        ) as hub:
            engine = make_engine(fresh.database_url)
            try:
                token = prepare_pharmacy(engine, hub.http_ports[0], args.workflow_orders)
                counters_before = database_counters(engine)
            finally:
                engine.dispose()
            result, rss, cpu_ms, payer_ms = _run_workflow(args, env, topology, report, hub, token, witness)
        # read once the hub has stopped: its sessions' statistics reach the server when they end
        engine = make_engine(fresh.database_url)
        try:
            per_order = per_order_counters(counters_before, database_counters(engine), result.ready)
        finally:
            engine.dispose()
    report.workflow.append(
        result.model_copy(
            update={
                "rss_mb": round(rss, 1),
                "cpu_ms_per_order": round(cpu_ms, 1),
                "payer_cpu_ms_per_order": round(payer_ms, 1),
                "database_per_order": per_order,
            }
        )
    )
    note_loss(report, result.name, result.lossless, result.failures)


def _run_workflow(
    args: argparse.Namespace,
    env: BenchEnvironment,
    topology: Topology,
    report: BenchReport,
    hub: Hub,
    token: str,
    witness: DeliveryWitness,
) -> tuple[WorkflowResult, float, float, float]:
    """The batch through a started hub: the result, the hub's RSS (MB) and CPU per order, the payer's CPU."""
    tap = EventTap(env.amqp_url, topology.events_exchange, f"{topology.prefix}.bench-workflow")
    tap.start()
    plan = WorkflowPlan(
        hub.mllp_ports,
        hub.http_ports[0],
        args.workflow_orders,
        args.workflow_senders,
        tag(),
        args.pharmacists,
        args.drain_timeout,
    )
    before, switched = cpu_snapshot(machine_groups(hub)), switch_snapshot(machine_groups(hub))
    try:
        if args.profile:
            with profiled(hub.pids(), "workflow", 20, report.started_stamp, report.profiles):
                result = run_workflow(plan, tap, token)
        else:
            result = run_workflow(plan, tap, token)
    finally:
        tap.stop()
    if tap.error:
        report.failures.append(f"workflow: the event tap failed ({tap.error}); its figures are incomplete")
    rss = sum(kb for name, kb in hub.rss_kb().items() if not name.startswith(PAYER_SIM)) / 1024
    result = result.model_copy(update={"batch_sizes": _batch_sizes(hub.http_ports[0])})
    orders = max(result.ready, 1)
    # a database session that ended meanwhile is not seen
    groups = machine_groups(hub)
    at_ready = cpu_snapshot(groups)
    per_order = cpu_ms_per(groups, before, orders, at_ready)
    result = result.model_copy(
        update={"machine_cpu_ms_per_order": per_order, "switches_per_order": switches_per(groups, switched, orders)}
    )
    print(
        f"bench: waiting a payer timeout ({PAYER_TIMEOUT_MS / 1000:.0f} s) for work the orders cause later...",
        flush=True,
    )
    time.sleep(PAYER_TIMEOUT_MS / 1000 + 1)
    witness.await_settled(time.monotonic(), args.drain_timeout)
    result = result.model_copy(
        update={"after_ready_cpu_ms_per_order": cpu_ms_per(machine_groups(hub), at_ready, orders)}
    )
    # the payer simulator stands for the insurer, outside the hub: its CPU and memory are reported apart
    return result, rss, hub_total(per_order), per_order.get(PAYER_GROUP, 0.0)


def _batch_sizes(http_port: int) -> dict[str, float] | None:
    """The workers' mean batch per step, from the hub's /metrics (None if it did not answer)."""
    connection = http.client.HTTPConnection("127.0.0.1", http_port, timeout=30)
    try:
        connection.request("GET", "/metrics")
        response = connection.getresponse()
        text = response.read().decode()
    except (OSError, http.client.HTTPException):
        return None
    finally:
        connection.close()
    return batch_sizes(text) if response.status == 200 else None


def _consumers(witness: DeliveryWitness, queue: str) -> int:
    try:
        return witness.queue_depth(queue)[1]
    except pika.exceptions.ChannelClosedByBroker:  # not declared yet: the simulator declares it on start
        return 0


def _raw_scenarios(env: BenchEnvironment, report: BenchReport, seconds: float, senders: list[int]) -> None:
    body, properties = _command_sample()
    queue = f"{env.prefix}.bench-raw"
    for concurrency in [PIPELINE_WINDOW, *senders]:
        print(f"bench: raw broker, {concurrency} in flight...", flush=True)
        summary = raw_baseline(env.amqp_url, queue, body, properties, concurrency, seconds)
        name = f"raw pipelined x{concurrency}" if concurrency == PIPELINE_WINDOW else f"raw broker x{concurrency}"
        report.scenarios.append(ScenarioResult(name=name, kind="raw-broker", concurrency=concurrency, summary=summary))


def _command_sample() -> tuple[bytes, pika.BasicProperties]:
    """The envelope the hub publishes for the sample order: the raw baseline sends the same bytes and headers
    (signed with a throwaway key: nothing consumes the baseline's queue)."""
    from adapters.hl7.mapping import to_commands
    from adapters.hl7.parsing import parse_message
    from hub.domain.order_parts import Source
    from hub.messaging.amqp_properties import command_properties
    from hub.messaging.envelope import Envelope, derived_message_id, order_correlation_id
    from hub.security.command_signing import CommandKeys, new_key

    command = to_commands(parse_message(SAMPLE.read_bytes()))[0]
    envelope = Envelope.wrap(
        command,
        correlation_id=order_correlation_id("EHR", "PLC1001"),
        source=Source.HL7,
        message_id=derived_message_id("hl7", "EHR|GENHOSP", "RXH-DEMO-0001", 0),
    )
    body = envelope.to_bytes()
    return body, command_properties(envelope, CommandKeys([new_key()]).headers(body))


def _finish(report: BenchReport, *, strict: bool) -> int:
    if report.parse_costs:
        print("\nParse cost per message (this process, nothing else running)\n" + parse_table(report))
    print(
        "\nScenarios (hub "
        + str(report.options.get("layout"))
        + ", "
        + str(report.options.get("database"))
        + ")\n"
        + scenario_table(report)
    )
    if report.workflow:
        print(
            "\nWorkflow to READY (simulated payer, scripted pharmacist over the staff API)\n" + workflow_table(report)
        )
    if report.sustained is not None:
        print("\n" + sustained_table(report.sustained))
    if report.profiles:
        print("\nWhere the hub's busy time went (py-spy, % of busy samples)\n" + profile_table(report.profiles))
    if report.targets:
        print("\nTargets (issue 7, 2-core machine)\n" + targets_table(report))
    path = write_json(report)
    print(f"\nbench: results written to {path}")
    if report.failures:
        print("bench: FAILED - messages were lost or left unacknowledged:", *report.failures, sep="\n  ")
        return 1
    if strict and not all(t.met for t in report.targets):
        print("bench: targets missed (--strict)")
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
