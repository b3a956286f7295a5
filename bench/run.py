"""``make bench``: raw-broker baseline, HL7 ingest over MLLP at 1/8/32 senders, parse costs, sustained run.

Exit status: 0 when every message sent got its AA and is stored and announced exactly once; 1 when any
message was lost, refused or left unacknowledged, or a hub process did not stop cleanly; 2 with
``--strict`` when the run was lossless but missed one of the issue's targets.
"""

from __future__ import annotations

import argparse
import sys
import uuid
from collections.abc import Sequence

import pika

from bench.delivery import DeliveryWitness
from bench.environment import BenchEnvironment, bench_environment
from bench.hl7_load import SAMPLE, LoadPlan, OrderTemplate, run_load
from bench.hub_process import Hub, started_hub
from bench.latency import summarize
from bench.parse_costs import measure
from bench.raw_broker import raw_baseline
from bench.report import (
    BenchReport,
    ScenarioResult,
    machine_facts,
    parse_table,
    scenario_table,
    sustained_table,
    targets_table,
    write_json,
)
from bench.sustained import run_sustained
from bench.targets import evaluate

PIPELINE_WINDOW = 256
SUSTAINED_SHARE = 0.70


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="3 s per scenario, short parse timing (~1 min)")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per scenario (default 10)")
    parser.add_argument("--sustained", type=float, metavar="SECONDS",
                        help=f"also run {SUSTAINED_SHARE:.0%} of the 8-sender peak for SECONDS (long form: 600)")
    parser.add_argument("--senders", default="1,8,32", help="comma-separated sender counts (default 1,8,32)")
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--layout", choices=["all-in-one", "split", "inprocess"], default="all-in-one",
                        help="rxhub run | K 'rxhub serve' + M 'rxhub worker intake' | threads of this process")
    parser.add_argument("--listeners", type=int, default=2, help="listener processes for --layout split")
    parser.add_argument("--workers", type=int, default=1,
                        help="worker processes for --layout split; 0 measures the doors alone (commands counted "
                             "in the intake queue, then purged)")
    parser.add_argument("--copies", type=int, default=1, help="consumer threads per step per process")
    parser.add_argument("--log-level", default="INFO", help="hub log level (its logs go to the work folder)")
    parser.add_argument("--drain-timeout", type=float, default=300.0, help="seconds to wait for the hub to drain")
    parser.add_argument("--no-raw", action="store_true", help="skip the raw-broker baseline")
    parser.add_argument("--no-parse-costs", action="store_true", help="skip the parse cost table")
    parser.add_argument("--strict", action="store_true", help="exit 2 when a target is missed")
    parser.add_argument("--keep-workdir", action="store_true", help="keep hub logs and database afterwards")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run every scenario, print the tables, write the JSON; see the module docstring for the exit status."""
    args = _parser().parse_args(argv)
    seconds = 3.0 if args.quick else args.duration
    senders = [int(n) for n in args.senders.split(",") if n.strip()]
    report = BenchReport(machine=machine_facts(), options={**vars(args), "seconds_per_scenario": seconds})
    if not args.no_parse_costs:
        print("bench: parse costs...", flush=True)
        report.parse_costs = measure(0.02 if args.quick else 0.1)
    keep = [bool(args.keep_workdir)]
    with bench_environment(args.database, keep=keep) as env:
        _broker_scenarios(args, env, report, seconds, senders)
        keep[0] = keep[0] or not report.lossless
    report.targets = evaluate(report, args.layout)
    return _finish(report, strict=args.strict)


def _broker_scenarios(args: argparse.Namespace, env: BenchEnvironment, report: BenchReport, seconds: float,
                      senders: list[int]) -> None:
    from hub.entrypoints.runtime import declare_topology

    topology = declare_topology(env.settings(args.log_level))
    witness = DeliveryWitness(env.amqp_url, env.database_url, topology)
    witness.bind()
    try:
        if not args.no_raw:
            _raw_scenarios(env, report, seconds, senders)
        with started_hub(env, args.layout, log_level=args.log_level, listeners=args.listeners,
                         workers=args.workers, copies=args.copies, intake_consumers=witness.intake_consumers,
                         exit_codes=report.hub_exit_codes) as hub:
            _ingest_scenarios(args, hub, witness, report, seconds, senders)
            report.final_rss_mb = {k: round(v / 1024, 1) for k, v in hub.rss_kb().items()}
    finally:
        witness.close()
    report.failures.extend(f"{name} exited with {code}" for name, code in report.hub_exit_codes.items() if code)


def _raw_scenarios(env: BenchEnvironment, report: BenchReport, seconds: float, senders: list[int]) -> None:
    body, properties = _command_sample()
    queue = f"{env.prefix}.bench-raw"
    for concurrency in [PIPELINE_WINDOW, *senders]:
        print(f"bench: raw broker, {concurrency} in flight...", flush=True)
        summary = raw_baseline(env.amqp_url, queue, body, properties, concurrency, seconds)
        name = f"raw pipelined x{concurrency}" if concurrency == PIPELINE_WINDOW else f"raw broker x{concurrency}"
        report.scenarios.append(ScenarioResult(name=name, kind="raw-broker", concurrency=concurrency,
                                               summary=summary))


def _ingest_scenarios(args: argparse.Namespace, hub: Hub, witness: DeliveryWitness, report: BenchReport,
                      seconds: float, senders: list[int]) -> None:
    template = OrderTemplate(SAMPLE.read_bytes())
    print("bench: warm-up...", flush=True)
    _ingest(hub, witness, template, report, LoadPlan(hub.mllp_ports, 4, 1.0, _tag()), args, record=False)
    for count in senders:
        print(f"bench: HL7 over MLLP, {count} sender(s)...", flush=True)
        _ingest(hub, witness, template, report, LoadPlan(hub.mllp_ports, count, seconds, _tag()), args)
    if args.sustained:
        peak = next((r.summary.rate for r in report.scenarios if r.kind == "hl7-mllp" and r.concurrency == 8), None)
        if peak is None:
            print("bench: measuring the 8-sender peak for the sustained run...", flush=True)
            peak = _ingest(hub, witness, template, report, LoadPlan(hub.mllp_ports, 8, seconds, _tag()), args)
        plan = LoadPlan(hub.mllp_ports, 8, args.sustained, _tag(), rate=peak * SUSTAINED_SHARE)
        print(f"bench: sustained {args.sustained:.0f} s at {plan.rate:.0f} msg/s...", flush=True)
        witness.reset_events()
        sustained, result = run_sustained(hub, witness, template, plan, window_s=max(2.0, args.sustained / 30))
        report.sustained = sustained
        report.sustained_delivery = witness.await_drained(plan.tag, result.placers, len(result.failures),
                                                          args.drain_timeout)
        _note_loss(report, "sustained", report.sustained_delivery.lossless, result.failures)


def _ingest(hub: Hub, witness: DeliveryWitness, template: OrderTemplate, report: BenchReport, plan: LoadPlan,
            args: argparse.Namespace, *, record: bool = True) -> float:
    witness.reset_events()
    result = run_load(plan, template)
    summary = summarize(result.latencies, result.elapsed)
    rss = sum(hub.rss_kb().values()) / 1024
    if args.layout == "split" and args.workers == 0:
        delivery = witness.count_queued(result.placers, len(result.failures))
    else:
        delivery = witness.await_drained(plan.tag, result.placers, len(result.failures), args.drain_timeout)
    name = f"hl7-mllp x{plan.senders}"
    _note_loss(report, name if record else "warm-up", delivery.lossless, result.failures)
    if record:
        raw = next((r for r in report.scenarios if r.kind == "raw-broker" and r.concurrency == plan.senders), None)
        report.scenarios.append(ScenarioResult(
            name=name, kind="hl7-mllp", concurrency=plan.senders, summary=summary, delivery=delivery,
            vs_raw=round(summary.rate / raw.summary.rate, 3) if raw and raw.summary.rate else None,
            rss_mb=round(rss, 1),
        ))
    return summary.rate


def _note_loss(report: BenchReport, name: str, lossless: bool, failures: list[str]) -> None:
    if not lossless:
        report.failures.append(f"{name}: lost or unacknowledged messages ({len(failures)} failures)")
        report.failures.extend(f"{name}: {f}" for f in failures[:20])


def _tag() -> str:
    return f"B{uuid.uuid4().hex[:6].upper()}"


def _command_sample() -> tuple[bytes, pika.BasicProperties]:
    """The envelope the hub publishes for the sample order: the raw baseline sends the same bytes."""
    from adapters.hl7.mapping import to_commands
    from adapters.hl7.parsing import parse_message
    from hub.domain.order_parts import Source
    from hub.messaging.amqp_properties import command_properties
    from hub.messaging.envelope import Envelope, derived_message_id, order_correlation_id

    command = to_commands(parse_message(SAMPLE.read_bytes()))[0]
    envelope = Envelope.wrap(command, correlation_id=order_correlation_id("EHR", "PLC1001"), source=Source.HL7,
                             message_id=derived_message_id("hl7", "EHR|GENHOSP", "RXH-DEMO-0001", 0))
    return envelope.to_bytes(), command_properties(envelope)


def _finish(report: BenchReport, *, strict: bool) -> int:
    if report.parse_costs:
        print("\nParse cost per message (this process, nothing else running)\n" + parse_table(report))
    print("\nScenarios (hub " + str(report.options.get("layout")) + ", " + str(report.options.get("database"))
          + ")\n" + scenario_table(report))
    if report.sustained is not None:
        print("\n" + sustained_table(report.sustained))
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
