"""The sustained run: paced senders at a share of the measured peak, sampled every window.

Pass criteria (the issue's "flat latency and memory, no backlog growth"): the rate is held, p99 in the
last third of the run stays within 1.5x (or +5 ms) of the first third, RSS after warm-up grows by less
than 10% (or 20 MB), and neither the intake queue nor the outbox grows: their median depth in the last
third is within a second of traffic of the first third's (a queue that holds steady is not a backlog
growing; a hub falling behind gains a second of traffic every few windows).
"""

from __future__ import annotations

import statistics
import threading
import time
from collections.abc import Callable

from pydantic import BaseModel, ConfigDict

from bench.delivery import DeliveryWitness
from bench.hl7_load import LoadPlan, LoadResult, OrderTemplate, run_load
from bench.hub_process import Hub, cpu_ms_per, cpu_snapshot, hub_total, machine_groups
from bench.latency import Summary, percentile, summarize


class Window(BaseModel):
    """One sampling window of the sustained run."""

    model_config = ConfigDict(frozen=True)

    start_s: float
    messages: int
    rate: float
    p50_ms: float
    p99_ms: float
    rss_mb: float
    intake_depth: int
    outbox_pending: int


class Sustained(BaseModel):
    """The whole sustained run: plan, per-window figures and verdicts."""

    model_config = ConfigDict(frozen=True)

    seconds: float
    senders: int
    target_rate: float
    summary: Summary
    windows: list[Window]
    verdicts: dict[str, bool]
    #: CPU milliseconds per accepted message over the paced period (``machine_groups``), then "hub" for the hub's
    #: processes together and "all" for everything; paced traffic arrives in ones and twos, so this is what a
    #: message costs without the batches of a burst
    cpu_ms_per_msg: dict[str, float] = {}


class _Sample(BaseModel):
    at: float
    rss_mb: float
    intake_depth: int
    outbox_pending: int


def run_sustained(
    hub: Hub, witness: DeliveryWitness, template: OrderTemplate, plan: LoadPlan, window_s: float
) -> tuple[Sustained, LoadResult]:
    """Run the paced load on a thread while this thread samples the hub every ``window_s``."""
    outcome: list[LoadResult] = []
    sender = threading.Thread(target=lambda: outcome.append(run_load(plan, template)), daemon=True)
    cpu_before = cpu_snapshot(machine_groups(hub))
    started = time.monotonic()
    sender.start()
    samples: list[_Sample] = []
    while sender.is_alive():
        sender.join(window_s)
        samples.append(
            _Sample(
                at=time.monotonic() - started,
                rss_mb=round(sum(hub.rss_kb().values()) / 1024, 1),
                intake_depth=witness.intake_depth(),
                outbox_pending=witness.outbox_pending(),
            )
        )
    result = outcome[0]
    windows = _windows(result, samples, window_s)
    assert plan.rate is not None
    summary = summarize(result.latencies, result.elapsed)
    per_msg = cpu_ms_per(machine_groups(hub), cpu_before, summary.count)
    return Sustained(
        seconds=plan.seconds,
        senders=plan.senders,
        target_rate=round(plan.rate, 1),
        summary=summary,
        windows=windows,
        verdicts=_verdicts(summary, windows, plan.rate),
        cpu_ms_per_msg={**per_msg, "hub": hub_total(per_msg), "all": round(sum(per_msg.values()), 2)},
    ), result


def _windows(result: LoadResult, samples: list[_Sample], window_s: float) -> list[Window]:
    buckets: dict[int, list[float]] = {}
    for log in result.logs:
        for sent, latency in log.accepted:
            buckets.setdefault(int((sent - result.started) // window_s), []).append(latency)
    windows = []
    for index, sample in enumerate(samples):
        ordered = sorted(buckets.get(index, []))
        windows.append(
            Window(
                start_s=round(index * window_s, 1),
                messages=len(ordered),
                rate=round(len(ordered) / window_s, 1),
                p50_ms=round(percentile(ordered, 0.5) * 1000, 2),
                p99_ms=round(percentile(ordered, 0.99) * 1000, 2),
                rss_mb=sample.rss_mb,
                intake_depth=sample.intake_depth,
                outbox_pending=sample.outbox_pending,
            )
        )
    return [w for w in windows if w.messages]


def _verdicts(summary: Summary, windows: list[Window], rate: float) -> dict[str, bool]:
    if len(windows) < 3:
        return {"enough_windows": False}
    third = max(1, len(windows) // 3)
    early, late = windows[1 : third + 1], windows[-third:]  # window 0 includes connection warm-up
    early_p99 = statistics.median(w.p99_ms for w in early)
    late_p99 = statistics.median(w.p99_ms for w in late)
    settled_rss = windows[min(len(windows) - 1, max(1, len(windows) // 5))].rss_mb
    backlog_limit = max(rate, 50)

    def grew(depth: Callable[[Window], int]) -> bool:
        return statistics.median(depth(w) for w in late) > statistics.median(depth(w) for w in early) + backlog_limit

    return {
        "rate_held": summary.rate >= 0.95 * rate,
        "latency_flat": late_p99 <= max(1.5 * early_p99, early_p99 + 5),
        "memory_flat": windows[-1].rss_mb - settled_rss <= max(0.10 * settled_rss, 20),
        "no_intake_backlog": not grew(lambda w: w.intake_depth),
        "no_outbox_backlog": not grew(lambda w: w.outbox_pending),
    }
