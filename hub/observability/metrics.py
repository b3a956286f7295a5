"""Prometheus metrics. Labels are doors, steps, outcomes and states, never anything about a patient.

``rxhub run`` forks its workers into processes of their own: their counters (commands handled, dead letters,
handler time) live there, not in the process serving ``/metrics``.  The workers it starts keep them in
prometheus_client's multiprocess files (``worker_environment``), and ``exposition`` adds them to this
process's own, one family per metric, samples of the same labels summed.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram, generate_latest, start_http_server
from prometheus_client.metrics_core import Metric
from prometheus_client.multiprocess import MultiProcessCollector

#: the doors messages come in by: HL7 v2 over MLLP, FHIR R4, NCPDP SCRIPT, and the staff API (``/api``)
DOORS = ("hl7", "fhir", "script", "api")
#: what a door answered, the same words for every door: ``accepted`` (durably on the broker: AA/CA, 2xx,
#: Status 010), ``duplicate`` (a resend, answered as before), ``rejected`` (the message broke the standard's
#: or the hub's rules: AR/AE, 4xx, Error 900), ``refused`` (the sender is not allowed: a token, a binding),
#: ``not_stored`` (broker or database down: resend later) and ``errors`` (the hub failed)
OUTCOMES = ("accepted", "duplicate", "rejected", "refused", "not_stored", "errors")
MESSAGES = Counter("rxhub_messages_total", "Inbound messages by door and outcome", ["door", "outcome"])
ACK_SECONDS = Histogram(
    "rxhub_ack_seconds",
    "Receipt to answer (ACK, 201, Status) by door",
    ["door"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
HANDLER_SECONDS = Histogram(
    "rxhub_handler_seconds",
    "Worker time per command, commit included",
    ["step", "command"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
HANDLED = Counter("rxhub_commands_total", "Commands handled by step and result", ["step", "command", "result"])
DEAD_LETTERED = Counter("rxhub_dead_letters_total", "Messages dead-lettered by step and failure kind", ["step", "kind"])
#: how many deliveries a step took into one transaction: batches of one under a backlog mean a step pays a
#: transaction per message (linger, prefetch, a slow broker link)
BATCH_SIZE = Histogram(
    "rxhub_batch_size", "Deliveries a step applied in one transaction", ["step"], buckets=(1, 2, 4, 8, 16, 32, 64)
)
EVENTS_PUBLISHED = Counter("rxhub_events_published_total", "Outbox rows published")
OUTBOUND = Counter(
    "rxhub_outbound_messages_total",
    "Outbound messages settled per destination and outcome (delivered, dead_lettered, superseded, skipped)",
    ["destination", "outcome"],
)
OUTBOUND_FAILURES = Counter(
    "rxhub_outbound_failures_total",
    "Outbound sends a destination did not accept (no connection, no ACK, AR): each is resent",
    ["destination"],
)
#: outbound outcomes; backlog, oldest age, connected and stuck are gauges read at scrape time (metrics_route)
OUTBOUND_OUTCOMES = ("delivered", "dead_lettered", "superseded", "skipped")
OUTBOUND_SENT = Counter(
    "rxhub_outbound_sent_total", "Outbound messages written to a destination, resends included", ["destination"]
)
OUTBOUND_RETRIES = Counter(
    "rxhub_outbound_retries_total",
    "Outbound resends of a message a destination had not accepted (AR/CR, no ACK, connection lost)",
    ["destination"],
)
#: claims the switch connector handled, per switch and what became of each (docs/switches.md); ``no_answer`` and
#: ``unreachable`` are a switch's trouble, ``dropped`` the per-fill fence at work (switch ``-``)
SWITCH_TRANSMISSIONS = Counter(
    "rxhub_switch_transmissions_total",
    "Claims the switch connector handled per switch and outcome (answered, no_answer, unreachable, dropped)",
    ["switch", "outcome"],
)
#: a status-unknown claim's reversal that went unanswered or met a 92, scheduled to be sent again (``scheduled``)
#: and sent again by the claim sweeper (``sent``) or not, a newer transmission of the fill being out (``fenced``)
REVERSAL_RETRIES = Counter(
    "rxhub_claim_reversal_retries_total",
    "Retries of a status-unknown claim's unanswered reversal (scheduled, sent, fenced)",
    ["outcome"],
)
#: counted by ``rxhub run`` itself (hub.entrypoints.supervisor), so it survives the workers it counts
#: emergency access (docs/security.md, "Emergency access"): every grant pages someone (deploy/prometheus)
BREAK_GLASS = Counter("rxhub_break_glass_total", "Break-glass grants given and ended early, by action", ["action"])
WORKER_RESTARTS = Counter("rxhub_worker_restarts_total", "Worker processes rxhub run started again after they died")
#: TLS handshakes a door refused or that failed (hub.security.handshake_refusals): ``protocol_version``,
#: ``no_shared_cipher``, ``not_tls`` (plain HTTP to the HTTPS port), ``certificate``, ``timeout`` (no
#: handshake within the deadline), ``closed`` (the peer left first), ``other``
TLS_HANDSHAKE_KINDS = ("protocol_version", "no_shared_cipher", "not_tls", "certificate", "timeout", "closed", "other")
TLS_HANDSHAKE_FAILURES = Counter(
    "rxhub_tls_handshake_failures_total", "TLS handshakes refused or failed, by door and kind", ["door", "kind"]
)
#: connections to one broker node that failed (node: host:port); a process goes on with the other nodes
BROKER_CONNECTION_FAILURES = Counter(
    "rxhub_broker_connection_failures_total", "Connection attempts to a broker node that failed", ["node"]
)

#: the folder of the worker processes' metric files, once this process started workers
_workers_dir: str | None = None
#: the folders' names: this prefix, the pid of the hub that made it, a random part
_DIR_PREFIX = "rxhub-metrics-"


def count_message(door: str, outcome: str) -> None:
    """One message answered at ``door``; ``outcome`` is one of ``OUTCOMES``."""
    MESSAGES.labels(door, outcome).inc()


def start_at_zero(steps: tuple[str, ...], failure_kinds: tuple[str, ...]) -> None:
    """Create every door's outcomes and every step's dead-letter kinds at 0: a rate or an alert over a series
    that appears only with its first message misses that first message."""
    for door in DOORS:
        ACK_SECONDS.labels(door)
        for outcome in OUTCOMES:
            MESSAGES.labels(door, outcome)
    for step in steps:
        for kind in failure_kinds:
            DEAD_LETTERED.labels(step, kind)


def start_destination_at_zero(destination: str) -> None:
    """Create one outbound destination's series at 0 (see ``start_at_zero``)."""
    OUTBOUND_FAILURES.labels(destination)
    OUTBOUND_SENT.labels(destination)
    OUTBOUND_RETRIES.labels(destination)
    for outcome in OUTBOUND_OUTCOMES:
        OUTBOUND.labels(destination, outcome)


def worker_environment() -> dict[str, str]:
    """Environment for worker processes this process starts, so that their metrics reach its ``/metrics``
    (prometheus_client reads it when imported, so only a new process can take it)."""
    global _workers_dir
    if _workers_dir is None:
        _forget_dead_hubs()
        _workers_dir = tempfile.mkdtemp(prefix=f"{_DIR_PREFIX}{os.getpid()}-")
    return {"PROMETHEUS_MULTIPROC_DIR": _workers_dir}


def _forget_dead_hubs() -> None:
    """Remove the metric folders of hubs that were killed before they could (SIGKILL, a crash)."""
    for folder in Path(tempfile.gettempdir()).glob(f"{_DIR_PREFIX}*-*"):
        pid = folder.name.removeprefix(_DIR_PREFIX).split("-", 1)[0]
        if pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(folder, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def serve_worker_metrics(host: str, port: int | None) -> bool:
    """Serve this worker process's metrics on ``port`` (``rxhub worker`` on its own); False when there is no
    port or the process reports through the ``rxhub run`` that started it."""
    if port is None or "PROMETHEUS_MULTIPROC_DIR" in os.environ:
        return False
    start_http_server(port, addr=host)
    return True


def forget_workers() -> None:
    """The workers have ended: remove their metric files."""
    global _workers_dir
    if _workers_dir is not None:
        shutil.rmtree(_workers_dir, ignore_errors=True)
        _workers_dir = None


def exposition(*extra: CollectorRegistry) -> bytes:
    """This process's metrics with its workers' (and ``extra`` registries'), in the Prometheus text format."""
    if _workers_dir is None:
        return b"".join(generate_latest(registry) for registry in (REGISTRY, *extra))
    merged = CollectorRegistry()
    workers = MultiProcessCollector(None, path=_workers_dir)  # type: ignore[no-untyped-call]
    merged.register(_Merged([REGISTRY, workers, *extra]))
    return generate_latest(merged)


class _Merged:
    """Collects several sources as one: a family several have is written once (twice is invalid text), and
    samples of the same name and labels are added up (the workers' files hold counts, sums and buckets only,
    no ``_created``)."""

    def __init__(self, sources: list[CollectorRegistry | MultiProcessCollector]) -> None:
        self._sources = sources

    def collect(self) -> Iterator[Metric]:
        families: dict[str, Metric] = {}
        samples: dict[str, dict[tuple[str, frozenset[tuple[str, str]]], tuple[dict[str, str], float]]] = {}
        for source in self._sources:
            for family in source.collect():
                families.setdefault(family.name, Metric(family.name, family.documentation, family.type, family.unit))
                merged = samples.setdefault(family.name, {})
                for sample in family.samples:
                    key = (sample.name, frozenset(sample.labels.items()))
                    labels, value = merged.get(key, (sample.labels, 0.0))
                    merged[key] = (labels, value + sample.value)
        for name, family in families.items():
            for (sample_name, _), (labels, value) in samples[name].items():
                family.add_sample(sample_name, labels, value)
            yield family
