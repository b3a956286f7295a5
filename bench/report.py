"""The printed table, the target verdicts and the JSON file every run leaves in bench/results/."""

from __future__ import annotations

import json
import os
import platform
import subprocess
from datetime import UTC, datetime
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from bench.delivery import DeliveryReport
from bench.latency import Summary
from bench.parse_costs import ParseCost
from bench.profile import ProcessProfile
from bench.sustained import Sustained
from bench.workflow import WorkflowResult

RESULTS = Path(__file__).resolve().parent / "results"


class ScenarioResult(BaseModel):
    """One table row."""

    model_config = ConfigDict(frozen=True)

    name: str
    kind: str
    concurrency: int
    summary: Summary
    vs_raw: float | None = None
    delivery: DeliveryReport | None = None
    rss_mb: float | None = None
    #: CPU the hub's processes used per message, from the first send until drained (less sensitive to other
    #: work on the machine than rates are)
    cpu_ms_per_msg: float | None = None
    #: the load generator's CPU per message (the bench process, senders and their checks included)
    sender_cpu_ms_per_msg: float | None = None
    #: 1-minute load average when the scenario ended: other work on the machine skews every figure
    load_1m: float = Field(default_factory=lambda: round(os.getloadavg()[0], 2))


class Target(BaseModel):
    """One of the issue's targets and whether this run met it."""

    model_config = ConfigDict(frozen=True)

    name: str
    wanted: str
    measured: str
    met: bool


class BenchReport(BaseModel):
    """Everything one run measured (the JSON file's content)."""

    started: str = Field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))
    machine: dict[str, str] = Field(default_factory=dict)
    options: dict[str, object] = Field(default_factory=dict)
    parse_costs: list[ParseCost] = Field(default_factory=list)
    scenarios: list[ScenarioResult] = Field(default_factory=list)
    workflow: list[WorkflowResult] = Field(default_factory=list)
    #: --profile: scenario -> hub process -> where its busy samples were
    profiles: dict[str, dict[str, ProcessProfile]] = Field(default_factory=dict)
    sustained: Sustained | None = None
    sustained_delivery: DeliveryReport | None = None
    final_rss_mb: dict[str, float] = Field(default_factory=dict)
    hub_exit_codes: dict[str, int | None] = Field(default_factory=dict)
    targets: list[Target] = Field(default_factory=list)
    failures: list[str] = Field(default_factory=list)

    @property
    def lossless(self) -> bool:
        """No scenario lost or left unacknowledged a message, and every hub process stopped cleanly."""
        return not self.failures

    @property
    def started_stamp(self) -> str:
        """The start time as a file-name stamp (the JSON and the profiles are named by it)."""
        return datetime.fromisoformat(self.started).strftime("%Y%m%dT%H%M%SZ")


def machine_facts() -> dict[str, str]:
    """What the figures depend on."""
    try:
        rabbit = subprocess.run(["rabbitmqctl", "-q", "version"], capture_output=True, text=True, timeout=30)
        rabbit_version = rabbit.stdout.strip()
    except (OSError, subprocess.SubprocessError):
        rabbit_version = "?"
    return {
        "cpus": str(os.cpu_count()),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "rabbitmq": rabbit_version,
        "load_average": " ".join(f"{x:.2f}" for x in os.getloadavg()),
    }


def _row(cells: list[str], widths: list[int]) -> str:
    return "  ".join(c.rjust(w) if i else c.ljust(w) for i, (c, w) in enumerate(zip(cells, widths, strict=True)))


def _drain(d: DeliveryReport | None) -> str:
    """Seconds after the senders stopped until every order was stored / until the hub was idle again."""
    if d is None:
        return "-"
    return f"{d.drain_s:.1f}" + (f"/{d.settled_s:.1f}" if d.settled_s is not None else "")


def scenario_table(report: BenchReport) -> str:
    """Scenario, msgs, msg/s, p50/p99/max, ratio to the raw baseline, loss check, drain, RSS."""
    head = [
        "scenario",
        "msgs",
        "msg/s",
        "p50 ms",
        "p99 ms",
        "max ms",
        "vs raw",
        "lossless",
        "drain/idle s",
        "RSS MB",
        "CPU ms/msg",
        "sender CPU",
        "load",
    ]
    widths = [24, 7, 8, 7, 7, 8, 6, 8, 12, 7, 10, 10, 5]
    lines = [_row(head, widths)]
    for r in report.scenarios:
        s, d = r.summary, r.delivery
        lines.append(
            _row(
                [
                    r.name,
                    str(s.count),
                    f"{s.rate:.0f}",
                    f"{s.p50_ms:.2f}",
                    f"{s.p99_ms:.2f}",
                    f"{s.max_ms:.1f}",
                    f"{r.vs_raw:.2f}" if r.vs_raw is not None else "-",
                    ("yes" if d.lossless else "NO") if d else "-",
                    _drain(d),
                    f"{r.rss_mb:.0f}" if r.rss_mb is not None else "-",
                    f"{r.cpu_ms_per_msg:.2f}" if r.cpu_ms_per_msg is not None else "-",
                    f"{r.sender_cpu_ms_per_msg:.2f}" if r.sender_cpu_ms_per_msg is not None else "-",
                    f"{r.load_1m:.1f}",
                ],
                widths,
            )
        )
    return "\n".join(lines)


def _database_line(counters: dict[str, float]) -> str:
    """Commits and rows written per order, then each table's inserts / updates (HOT among them) / deletes."""
    totals = ", ".join(f"{counters[k]:g} {k}" for k in ("commit", "inserted", "updated", "deleted") if k in counters)
    tables = sorted(
        {k.split(".")[0] for k in counters if "." in k},
        key=lambda t: -sum(v for k, v in counters.items() if k.startswith(t + ".")),
    )
    parts = [
        f"{t} {counters.get(t + '.ins', 0):g}/{counters.get(t + '.upd', 0):g}"
        f"({counters.get(t + '.hot_upd', 0):g} HOT)/{counters.get(t + '.del', 0):g}"
        for t in tables
    ]
    return f"PostgreSQL per order: {totals}\n  rows by table, inserted/updated(HOT)/deleted: " + ", ".join(parts)


def workflow_table(report: BenchReport) -> str:
    """Orders/s to READY, arrival-to-READY latency, then the time each step added."""
    lines = []
    for w in report.workflow:
        t = w.to_ready
        lines.append(
            f"{w.name}: {w.ready}/{w.accepted} READY in {w.seconds:.1f} s -> {w.rate:.1f} orders/s "
            f"(ingest {w.ingest_rate:.0f}/s); arrival->READY p50 {t.p50_ms:.0f} / p99 {t.p99_ms:.0f} / "
            f"max {t.max_ms:.0f} ms; {w.approvals} approvals; RSS {w.rss_mb:.0f} MB; "
            f"hub CPU {w.cpu_ms_per_order if w.cpu_ms_per_order is not None else '-'} ms/order "
            f"(payer simulator {w.payer_cpu_ms_per_order if w.payer_cpu_ms_per_order is not None else '-'}); "
            f"load {w.load_1m:.1f}"
        )
        if w.machine_cpu_ms_per_order:
            total = sum(w.machine_cpu_ms_per_order.values())
            lines.append(
                "CPU per order: "
                + ", ".join(f"{k} {v:g}" for k, v in w.machine_cpu_ms_per_order.items())
                + f"; {total:.1f} ms in all: {os.cpu_count() or 1} cores carry at most "
                f"{1000 * (os.cpu_count() or 1) / max(total, 0.1):.0f} orders/s at this cost"
            )
        if w.switches_per_order:
            switched = w.switches_per_order
            lines.append(
                "context switches per order: "
                + ", ".join(f"{k} {v:g}" for k, v in switched.items())
                + f"; {sum(switched.values()):.0f} in all"
            )
        if w.after_ready_cpu_ms_per_order:
            after = w.after_ready_cpu_ms_per_order
            lines.append(
                "CPU per order in the payer timeout after the last READY (work an order causes later): "
                + ", ".join(f"{k} {v:g}" for k, v in after.items())
                + f"; {sum(after.values()):.1f} ms in all"
            )
        if w.database_per_order:
            lines.append(_database_line(w.database_per_order))
        if w.batch_sizes:
            lines.append(
                "deliveries per transaction (mean): " + ", ".join(f"{step} {n:g}" for step, n in w.batch_sizes.items())
            )
        head, widths = ["step", "orders", "mean ms", "p50 ms", "p99 ms", "max ms"], [46, 6, 8, 8, 8, 8]
        lines.append(_row(head, widths))
        lines.extend(
            _row(
                [s.step, str(s.orders), f"{s.mean_ms:.0f}", f"{s.p50_ms:.0f}", f"{s.p99_ms:.0f}", f"{s.max_ms:.0f}"],
                widths,
            )
            for s in w.steps
        )
        lines.extend(f"  FAILURE: {f}" for f in w.failures[:20])
    return "\n".join(lines)


def parse_table(report: BenchReport) -> str:
    """Per-adapter parse cost."""
    head = ["path", "inputs", "refused", "median ms", "max ms", "msg/s/core"]
    widths = [42, 6, 7, 9, 8, 10]
    lines = [_row(head, widths)]
    for c in report.parse_costs:
        lines.append(
            _row(
                [
                    c.path,
                    str(c.inputs),
                    str(c.refused),
                    f"{c.median_ms:.3f}",
                    f"{c.max_ms:.3f}",
                    f"{c.per_core_rate:.0f}",
                ],
                widths,
            )
        )
    return "\n".join(lines)


def sustained_table(sustained: Sustained) -> str:
    """One line per window and the verdicts."""
    head = ["t s", "msgs", "msg/s", "p50 ms", "p99 ms", "RSS MB", "intake q", "outbox"]
    widths = [7, 6, 7, 7, 7, 7, 8, 7]
    lines = [
        f"sustained: {sustained.senders} senders paced at {sustained.target_rate:.0f} msg/s "
        f"for {sustained.seconds:.0f} s -> {sustained.summary.rate:.0f} msg/s, "
        f"p50 {sustained.summary.p50_ms:.2f} / p99 {sustained.summary.p99_ms:.2f} ms",
        _row(head, widths),
    ]
    for w in sustained.windows:
        lines.append(
            _row(
                [
                    f"{w.start_s:.0f}",
                    str(w.messages),
                    f"{w.rate:.0f}",
                    f"{w.p50_ms:.2f}",
                    f"{w.p99_ms:.2f}",
                    f"{w.rss_mb:.0f}",
                    str(w.intake_depth),
                    str(w.outbox_pending),
                ],
                widths,
            )
        )
    lines.append("verdicts: " + ", ".join(f"{k}={'ok' if v else 'FAIL'}" for k, v in sustained.verdicts.items()))
    if sustained.cpu_ms_per_msg:
        lines.append(
            "CPU ms per message while paced: "
            + ", ".join(f"{name} {ms:.2f}" for name, ms in sustained.cpu_ms_per_msg.items())
        )
    return "\n".join(lines)


def targets_table(report: BenchReport) -> str:
    """The issue's targets, met or missed."""
    return "\n".join(
        f"{'met ' if t.met else 'MISS'}  {t.name:44} wanted {t.wanted:>12}  measured {t.measured}"
        for t in report.targets
    )


def write_json(report: BenchReport, folder: Path = RESULTS) -> Path:
    """bench/results/<timestamp>.json (git-ignored)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{report.started_stamp}.json"
    data = report.model_dump(mode="json")
    data["lossless"] = report.lossless
    path.write_text(json.dumps(data, indent=2) + "\n")
    return path
