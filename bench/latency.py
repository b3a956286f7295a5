"""Latency and rate summaries shared by every scenario."""

from __future__ import annotations

import math
from collections.abc import Sequence

from pydantic import BaseModel, ConfigDict


class Summary(BaseModel):
    """Throughput and latency of one measured run; milliseconds so the JSON reads like the table."""

    model_config = ConfigDict(frozen=True)

    count: int
    seconds: float
    rate: float
    p50_ms: float
    p99_ms: float
    max_ms: float


def percentile(ordered: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile of an already sorted sequence (0.0 when empty)."""
    if not ordered:
        return 0.0
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


def summarize(latencies_s: Sequence[float], seconds: float) -> Summary:
    """Summary of latencies given in seconds over a run that lasted ``seconds``."""
    ordered = sorted(latencies_s)
    return Summary(
        count=len(ordered),
        seconds=round(seconds, 3),
        rate=round(len(ordered) / seconds, 1) if seconds > 0 else 0.0,
        p50_ms=round(percentile(ordered, 0.50) * 1000, 2),
        p99_ms=round(percentile(ordered, 0.99) * 1000, 2),
        max_ms=round(ordered[-1] * 1000, 2) if ordered else 0.0,
    )
