"""Issue 7 (d): orders a second from arrival to READY, and the time each step adds.

A fixed batch of HL7 orders (senders as in ``hl7_load``) goes through the whole retail path with the
simulated payer (``rxhub payer-sim``, BIN 999001 pays amoxicillin) and the scripted pharmacist approving
through the real staff API.  Each order's timeline comes from the public events (CloudEvents ``time``):

    AA --intake--> received --claim+payer--> claim.paid --pharmacist (data)--> prescription.verified
       --fill--> fill.completed --pharmacist (product)--> fill.verified --> prescription.ready

The rate is orders READY / (first send -> last READY), so a backlog that builds anywhere counts against
it.  The run fails (as a lost message does) unless every accepted order reaches READY exactly once.
"""

from __future__ import annotations

import os
import statistics
import time
from collections import Counter
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict
from sqlalchemy import Engine

from bench.event_tap import DEAD_ENDS, READY, RECEIVED, EventTap, Seen
from bench.hl7_load import SAMPLE, OrderTemplate, run_load
from bench.latency import Summary, percentile, summarize
from bench.pharmacist import PharmacistLog, ScriptedPharmacist, StaffApi
from bench.senders import LoadPlan, LoadResult
from hub.config import Settings
from hub.persistence.users import UserStore

NDC = "00093005801"
#: (label, from event, to event); None = the AA the sender got
STEPS: tuple[tuple[str, str | None, str], ...] = (
    ("AA -> received (intake)", None, RECEIVED),
    ("received -> claim.paid (claim, payer)", RECEIVED, "claim.paid"),
    ("claim.paid -> verified (pharmacist)", "claim.paid", "prescription.verified"),
    ("verified -> fill.completed (fill)", "prescription.verified", "fill.completed"),
    ("fill.completed -> fill.verified (pharmacist)", "fill.completed", "fill.verified"),
    ("fill.verified -> ready", "fill.verified", READY),
)
#: the hub's default payer timeout: the run waits that long after the last READY
PAYER_TIMEOUT_MS: int = Settings.model_fields["payer_timeout_ms"].default
#: RXHUB_* variables the workflow hub needs: retail orders billed to the simulated payer
PAYER_ENV = {"RXHUB_DEFAULT_BIN": "999001", "RXHUB_DEFAULT_PCN": "RXHUB", "RXHUB_DEFAULT_GROUP": "BENCH"}


class StepTime(BaseModel):
    """How long one step added per order (queueing included)."""

    model_config = ConfigDict(frozen=True)

    step: str
    orders: int
    mean_ms: float
    p50_ms: float
    p99_ms: float
    max_ms: float


class WorkflowResult(BaseModel):
    """One workflow run: rate to READY, the arrival-to-READY latency and where it went."""

    model_config = ConfigDict(frozen=True)

    name: str
    senders: int
    accepted: int
    ready: int
    seconds: float
    rate: float
    ingest_rate: float
    to_ready: Summary
    steps: list[StepTime]
    approvals: int
    approval_conflicts: int
    duplicate_events: int
    dead_ends: dict[str, int]
    failures: list[str]
    #: RSS of the hub's processes (listeners and workers, not the payer simulator)
    rss_mb: float
    #: CPU of the hub's processes (listeners and workers, not the payer simulator) per order READY
    cpu_ms_per_order: float | None = None
    #: the payer simulator's CPU per order READY (the insurer's side, outside the hub)
    payer_cpu_ms_per_order: float | None = None
    #: PostgreSQL's own counters for the workflow's database (pg_stat_database), per order READY: commits,
    #: rows inserted, updated, deleted; machine noise does not move them (None on SQLite)
    database_per_order: dict[str, float] | None = None
    #: CPU ms per order READY of every process that worked for it: each hub process, the payer simulator,
    #: PostgreSQL and RabbitMQ (all their processes on the machine) and the bench itself (load generator)
    machine_cpu_ms_per_order: dict[str, float] | None = None
    #: context switches per order READY of the same processes (their live threads): round trips and wake-ups,
    #: which the machine's speed moves far less than CPU time
    switches_per_order: dict[str, float] | None = None
    #: the same, spent in the payer timeout after the last READY, until the hub was idle again: work an order
    #: causes later (until 2026-12-05 each claim's timer came back then) that the rate above, taken over a
    #: batch shorter than the payer timeout, does not see
    after_ready_cpu_ms_per_order: dict[str, float] | None = None
    #: deliveries per transaction of each worker step, the mean over the run (the hub's rxhub_batch_size)
    batch_sizes: dict[str, float] | None = None
    load_1m: float

    @property
    def lossless(self) -> bool:
        """Every accepted order READY exactly once, nothing refused or stuck."""
        return not self.failures and self.ready == self.accepted


@dataclass(frozen=True)
class WorkflowPlan:
    """The batch: how many orders, from how many senders, and how long to wait for READY."""

    ports: list[int]
    http_port: int
    orders: int
    senders: int
    tag: str
    approvers: int = 4
    timeout_s: float = 300.0


def prepare_pharmacy(engine: Engine, http_port: int, orders: int) -> str:
    """Staff users, and enough amoxicillin on the shelf (received by a technician); the pharmacist's token."""
    users = UserStore(engine)
    _tech, tech_token = users.add(f"bench.tech.{time.monotonic_ns()}", "technician")
    _pharm, token = users.add(f"bench.pharm.{time.monotonic_ns()}", "pharmacist", "RPH-BENCH-1")
    api = StaffApi(http_port, tech_token)
    lot = f"BENCH{time.monotonic_ns() % 10**8}"
    status, answer = api.call(
        "POST", "/api/inventory", {"ndc": NDC, "lot": lot, "expiry": "2030-12-31", "quantity": str(orders * 20 * 2)}
    )
    if status != 202:
        raise RuntimeError(f"stock not accepted: {status} {answer}")
    deadline = time.monotonic() + 30
    while not any(item.get("lot") == lot for item in api.call("GET", "/api/inventory")[1] or []):
        if time.monotonic() > deadline:
            raise RuntimeError("the stock delivery was not applied within 30 s")
        time.sleep(0.2)
    api.close()
    return token


def run_workflow(plan: WorkflowPlan, tap: EventTap, token: str, rss_mb: float = 0.0) -> WorkflowResult:
    """Send the batch, let the pharmacist work, wait for every READY (or a dead end, or the timeout)."""
    pharmacist = ScriptedPharmacist(plan.http_port, token, plan.approvers)
    pharmacist.start()
    wall_start = time.time()
    per_sender = max(1, plan.orders // plan.senders)
    load = run_load(
        LoadPlan(plan.ports, plan.senders, 600.0, plan.tag, per_sender=per_sender), OrderTemplate(SAMPLE.read_bytes())
    )
    accepted = load.arrivals
    finished = _await_ready(tap, set(accepted), plan.timeout_s)
    pharmacist.stop()
    time.sleep(0.5)  # a late duplicate READY would show now
    return _result(plan, load, tap.snapshot(), pharmacist.log, wall_start, finished, rss_mb)


def _await_ready(tap: EventTap, placers: set[str], timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and tap.error is None:
        events = tap.snapshot()
        mine = {e.subject for e in events if e.type == RECEIVED and e.placer in placers}
        stuck = {e.subject for e in events if e.type in DEAD_ENDS and e.subject in mine}
        if len(mine) == len(placers) and mine <= (tap.ready_subjects | stuck):
            return True
        time.sleep(0.25)
    return False


def _result(
    plan: WorkflowPlan,
    load: LoadResult,
    events: list[Seen],
    log: PharmacistLog,
    wall_start: float,
    finished: bool,
    rss_mb: float,
) -> WorkflowResult:
    arrivals = load.arrivals
    unique = {e.event_id: e for e in events}
    subjects = {
        e.subject: e.placer
        for e in unique.values()
        if e.type == RECEIVED and e.placer in arrivals and e.placer is not None
    }
    timeline: dict[str, dict[str, float]] = {s: {} for s in subjects}
    counts: Counter[tuple[str, str]] = Counter()
    for e in unique.values():
        if e.subject in timeline:
            counts[(e.subject, e.type)] += 1
            timeline[e.subject].setdefault(e.type, e.at)
    ready = [s for s in subjects if READY in timeline[s]]
    last = max((timeline[s][READY] for s in ready), default=wall_start)
    seconds = max(last - wall_start, 1e-6)
    failures = [*load.failures, *log.failures]
    if not finished:
        failures.append(f"{len(arrivals) - len(ready)} accepted order(s) not READY within {plan.timeout_s:.0f} s")
    doubled = [f"{t} x{n} for {s}" for (s, t), n in counts.items() if n > 1 and t in (RECEIVED, READY)]
    failures.extend(doubled[:20])
    dead = Counter(e.type for e in unique.values() if e.type in DEAD_ENDS and e.subject in timeline)
    failures.extend(f"{n} order(s) ended in {t}" for t, n in dead.items())
    to_ready = [timeline[s][READY] - arrivals[p] for s, p in subjects.items() if READY in timeline[s]]
    return WorkflowResult(
        name=f"workflow x{plan.senders}",
        senders=plan.senders,
        accepted=len(arrivals),
        ready=len(ready),
        seconds=round(seconds, 2),
        rate=round(len(ready) / seconds, 1),
        ingest_rate=round(len(arrivals) / load.elapsed, 1) if load.elapsed else 0.0,
        to_ready=summarize(to_ready, seconds),
        steps=_steps(timeline, subjects, arrivals),
        approvals=log.approved,
        approval_conflicts=log.conflicts,
        duplicate_events=len(events) - len(unique),
        dead_ends=dict(dead),
        failures=failures,
        rss_mb=round(rss_mb, 1),
        load_1m=round(os.getloadavg()[0], 2),
    )


def _steps(
    timeline: dict[str, dict[str, float]], subjects: dict[str, str], arrivals: dict[str, float]
) -> list[StepTime]:
    rows = []
    for label, start, end in STEPS:
        gaps = sorted(
            t[end] - (arrivals[p] if start is None else t[start])
            for s, p in subjects.items()
            if end in (t := timeline[s]) and (start is None or start in t)
        )
        if gaps:
            rows.append(
                StepTime(
                    step=label,
                    orders=len(gaps),
                    mean_ms=round(statistics.fmean(gaps) * 1000, 1),
                    p50_ms=round(percentile(gaps, 0.5) * 1000, 1),
                    p99_ms=round(percentile(gaps, 0.99) * 1000, 1),
                    max_ms=round(gaps[-1] * 1000, 1),
                )
            )
    return rows


_COUNTERS = ("xact_commit", "tup_inserted", "tup_updated", "tup_deleted")
_TABLE_COUNTERS = ("n_tup_ins", "n_tup_upd", "n_tup_hot_upd", "n_tup_del")


def batch_sizes(metrics_text: str) -> dict[str, float]:
    """Mean deliveries per transaction of each step, from the hub's ``/metrics`` (``rxhub_batch_size``)."""
    sums: dict[str, float] = {}
    counts: dict[str, float] = {}
    for line in metrics_text.splitlines():
        if not line.startswith(("rxhub_batch_size_sum{", "rxhub_batch_size_count{")):
            continue
        name_labels, _, value = line.rpartition(" ")
        step = name_labels.split('step="', 1)[1].split('"', 1)[0]
        (sums if name_labels.startswith("rxhub_batch_size_sum") else counts)[step] = float(value)
    return {step: round(sums.get(step, 0.0) / n, 1) for step, n in sorted(counts.items()) if n}


def database_counters(engine: Engine) -> dict[str, int] | None:
    """This database's transaction and row counters on PostgreSQL, the rows also per table as
    ``<table>.<counter>`` (None on SQLite)."""
    if engine.dialect.name != "postgresql":
        return None
    with engine.connect() as conn:
        conn.exec_driver_sql("SELECT pg_stat_clear_snapshot()")
        row = conn.exec_driver_sql(
            f"SELECT {', '.join(_COUNTERS)} FROM pg_stat_database WHERE datname = current_database()"
        ).one()
        counters = dict(zip(_COUNTERS, (int(v) for v in row), strict=True))
        for table, *values in conn.exec_driver_sql(
            f"SELECT relname, {', '.join(_TABLE_COUNTERS)} FROM pg_stat_user_tables"
        ).all():
            counters.update(
                {
                    f"{table}.{name.removeprefix('n_tup_')}": int(v)
                    for name, v in zip(_TABLE_COUNTERS, values, strict=True)
                }
            )
    return counters


def per_order_counters(
    before: dict[str, int] | None, after: dict[str, int] | None, orders: int
) -> dict[str, float] | None:
    """What the run added to each counter, per order (per-table counters only where rows were written)."""
    if before is None or after is None or not orders:
        return None
    result = {}
    for name, value in after.items():
        added = (value - before.get(name, 0)) / orders
        if "." not in name or added:
            result[name.removeprefix("xact_").removeprefix("tup_")] = round(added, 2)
    return result
