"""Issue 7 (b), (c), (e): ingest over MLLP and over HTTP at 1/8/32 senders, and the sustained run.

Every scenario ends with the delivery check (``delivery``): each accepted order stored once and announced
once as ``prescription.received``; anything else is recorded as a failure and the run exits 1.
"""

from __future__ import annotations

import argparse
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from bench.delivery import DeliveryWitness
from bench.fhir_load import run_fhir_load
from bench.hl7_load import SAMPLE, OrderTemplate, run_load
from bench.hub_process import Hub, cpu_s
from bench.latency import summarize
from bench.profile import ProcessProfile, profiled
from bench.report import BenchReport, ScenarioResult
from bench.senders import LoadPlan, LoadResult
from bench.sustained import run_sustained

SUSTAINED_SHARE = 0.70


@dataclass
class IngestRun:
    """What the ingest scenarios share: the hub, the witness, the report and the options."""

    hub: Hub
    witness: DeliveryWitness
    report: BenchReport
    args: argparse.Namespace
    seconds: float
    feed_token: str | None = None
    template: OrderTemplate = field(default_factory=lambda: OrderTemplate(SAMPLE.read_bytes()))

    @property
    def profiles(self) -> dict[str, dict[str, ProcessProfile]]:
        """Where --profile summaries go."""
        return self.report.profiles


def tag() -> str:
    """A fresh scenario tag: every placer number of the scenario starts with it."""
    return f"B{uuid.uuid4().hex[:6].upper()}"


def hl7_scenarios(run: IngestRun, senders: list[int]) -> None:
    """Warm-up, then N blocking MLLP senders per count, then the sustained run when asked."""
    hub = run.hub
    print("bench: warm-up...", flush=True)
    _measure(
        run,
        "warm-up",
        "hl7-mllp",
        LoadPlan(hub.mllp_ports, 4, 1.0, tag()),
        lambda p: run_load(p, run.template),
        record=False,
    )
    for count in senders:
        print(f"bench: HL7 over MLLP, {count} sender(s)...", flush=True)
        _measure(
            run,
            f"hl7-mllp x{count}",
            "hl7-mllp",
            LoadPlan(hub.mllp_ports, count, run.seconds, tag()),
            lambda p: run_load(p, run.template),
        )


def fhir_scenarios(run: IngestRun, clients: list[int]) -> None:
    """N FHIR clients per count, each POSTing MedicationRequests over keep-alive HTTP (201 required)."""
    assert run.feed_token is not None
    ports = run.hub.http_ports
    token = run.feed_token
    _measure(
        run,
        "fhir warm-up",
        "fhir-http",
        LoadPlan(ports, 4, 1.0, tag()),
        lambda p: run_fhir_load(p, token),
        record=False,
    )
    for count in clients:
        print(f"bench: FHIR over HTTP, {count} client(s)...", flush=True)
        _measure(
            run,
            f"fhir-http x{count}",
            "fhir-http",
            LoadPlan(ports, count, run.seconds, tag()),
            lambda p: run_fhir_load(p, token),
        )


def sustained_scenario(run: IngestRun) -> None:
    """8 senders paced at 70% of the measured 8-sender peak for --sustained seconds.

    The peak is what the hub carried through, not what its doors swallowed: messages / (sending time + the
    time until the hub was idle again, every step's queue empty and the outbox published).  Doors faster than
    the workers build a queue, which is what a durable queue is for in a burst; paced at the doors' rate the
    backlog would grow for as long as the run lasted.  (Until 2026-12-05 the peak counted only until every order
    was stored: the claim steps' work came after it, and at 70% of that rate the intake queue grew in every
    10-minute run.)
    """
    report, args, hub = run.report, run.args, run.hub
    rate = args.sustained_rate or _carried_peak(run) * SUSTAINED_SHARE
    plan = LoadPlan(hub.mllp_ports, 8, args.sustained, tag(), rate=rate)
    print(f"bench: sustained {args.sustained:.0f} s at {plan.rate:.0f} msg/s...", flush=True)
    run.witness.reset_events()
    sustained, result = run_sustained(hub, run.witness, run.template, plan, window_s=max(2.0, args.sustained / 30))
    report.sustained = sustained
    report.sustained_delivery = run.witness.await_drained(
        plan.tag, result.placers, len(result.failures), args.drain_timeout
    )
    note_loss(report, "sustained", report.sustained_delivery.lossless, result.failures)


def _carried_peak(run: IngestRun) -> float:
    """Messages per second of the 8-sender scenario, counted until the hub was idle again (measured now if
    the run had none)."""
    eight = next((r for r in run.report.scenarios if r.kind == "hl7-mllp" and r.concurrency == 8), None)
    if eight is None:
        print("bench: measuring the 8-sender peak for the sustained run...", flush=True)
        _measure(
            run,
            "hl7-mllp x8",
            "hl7-mllp",
            LoadPlan(run.hub.mllp_ports, 8, run.seconds, tag()),
            lambda p: run_load(p, run.template),
        )
        eight = run.report.scenarios[-1]
    if eight.delivery is None or not eight.summary.count:
        return eight.summary.rate
    after = eight.delivery.settled_s if eight.delivery.settled_s is not None else eight.delivery.drain_s
    return eight.summary.count / (eight.summary.seconds + after)


def _measure(
    run: IngestRun, name: str, kind: str, plan: LoadPlan, load: Callable[[LoadPlan], LoadResult], *, record: bool = True
) -> float:
    witness, hub, args = run.witness, run.hub, run.args
    witness.reset_events()
    pids = list(hub.pids().values())
    cpu_before, sender_cpu_before = cpu_s(pids), time.process_time()
    if args.profile and record:
        with profiled(hub.pids(), name, plan.seconds, run.report.started_stamp, run.profiles):
            result = load(plan)
    else:
        result = load(plan)
    summary = summarize(result.latencies, result.elapsed)
    rss = sum(hub.rss_kb().values()) / 1024
    if args.layout == "split" and args.workers == 0:
        delivery = witness.count_queued(result.placers, len(result.failures))
    else:
        stopped = time.monotonic()
        delivery = witness.await_drained(plan.tag, result.placers, len(result.failures), args.drain_timeout)
    cpu_used = cpu_s(pids) - cpu_before  # the hub's CPU for taking these in and (workers running) carrying them on
    sender_cpu = time.process_time() - sender_cpu_before  # the load generator's (this process, with its waits)
    if delivery.witness != "intake-queue":
        # the steps after intake (claims) go on: the next scenario should not inherit them, and the sustained
        # pace is judged against what the hub carries through with all its steps
        delivery = delivery.model_copy(update={"settled_s": witness.await_settled(stopped, args.drain_timeout)})
    note_loss(run.report, name, delivery.lossless, result.failures)
    if record:
        raw = next((r for r in run.report.scenarios if r.kind == "raw-broker" and r.concurrency == plan.senders), None)
        run.report.scenarios.append(
            ScenarioResult(
                name=name,
                kind=kind,
                concurrency=plan.senders,
                summary=summary,
                delivery=delivery,
                vs_raw=round(summary.rate / raw.summary.rate, 3) if raw and raw.summary.rate else None,
                rss_mb=round(rss, 1),
                cpu_ms_per_msg=round(1000 * cpu_used / summary.count, 2) if summary.count else None,
                sender_cpu_ms_per_msg=round(1000 * sender_cpu / summary.count, 2) if summary.count else None,
            )
        )
    return summary.rate


def note_loss(report: BenchReport, name: str, lossless: bool, failures: list[str]) -> None:
    """Record a scenario that lost, refused or left unanswered any message (the run will exit 1)."""
    if not lossless:
        report.failures.append(f"{name}: lost or unacknowledged messages ({len(failures)} failures)")
        report.failures.extend(f"{name}: {f}" for f in failures[:20])
