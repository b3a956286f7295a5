"""The real entry points as real processes: `rxhub run`, `rxhub send`, `rxhub topology`, clean SIGTERM."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from hub.config import Settings
from hub.persistence.database import make_engine
from hub.persistence.tables import prescriptions
from tests.support.processes import free_port as _free_port
from tests.support.processes import hub_env as _env
from tests.support.processes import wait_for

ROOT = Path(__file__).resolve().parents[2]
RXHUB = [sys.executable, "-m", "hub.entrypoints.cli"]
SAMPLE = ROOT / "samples" / "hl7" / "04_orm_o01_v23_two_orders.hl7"


@pytest.mark.parametrize("worker_processes", [None, 0, 2])
def test_run_send_and_a_clean_sigterm(settings: Settings, worker_processes: int | None) -> None:
    mllp, http = _free_port(), _free_port()
    env = _env(settings, mllp, http)
    topology = subprocess.run([*RXHUB, "topology"], env=env, capture_output=True, text=True, timeout=180)
    assert topology.returncode == 0 and f"{settings.broker_prefix}.intake (quorum)" in topology.stdout
    forks = [] if worker_processes is None else ["--worker-processes", str(worker_processes)]  # None: the default
    hub = subprocess.Popen([*RXHUB, "run", *forks], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert hub.stdout is not None
        line = hub.stdout.readline()
        assert f"MLLP on 127.0.0.1:{mllp}" in line, line
        sent = subprocess.run([*RXHUB, "send", str(SAMPLE)], env=env, capture_output=True, text=True, timeout=180)
        assert sent.returncode == 0, sent.stderr
        assert "MSA|AA|RXH-DEMO-0004" in sent.stdout
        engine = make_engine(settings.database_url.get_secret_value())

        def stored() -> int:
            with engine.connect() as conn:
                return int(conn.execute(select(func.count()).select_from(prescriptions)).scalar_one())

        # the deadlines below only bound a hub that never gets there: a loaded 2-core machine may be slow
        wait_for(lambda: stored() == 2, "both orders stored", timeout_s=180)
        engine.dispose()
        _assert_workers_counted(http)
        hub.send_signal(signal.SIGTERM)
        assert hub.wait(timeout=180) == 0, "a clean SIGTERM exits 0"
    finally:
        if hub.poll() is None:
            hub.kill()
            hub.wait()


def _assert_workers_counted(http: int) -> None:
    """``/metrics`` of ``rxhub run`` counts what its workers did, whichever process they run in, each metric
    family written once (a second HELP line for a name is invalid exposition text)."""

    def scraped() -> str | None:  # the worker processes report their counters after the commit
        text = httpx.get(f"http://127.0.0.1:{http}/metrics", timeout=60).text
        return text if 'step="intake"} 2.0' in text else None

    metrics = wait_for(scraped, "the workers' counters in /metrics", timeout_s=180)
    assert 'rxhub_commands_total{command="ReceivePrescription",result="ok",step="intake"} 2.0' in metrics
    assert "rxhub_handler_seconds_count{" in metrics and 'step="intake"' in metrics
    assert 'rxhub_messages_total{door="hl7",outcome="accepted"} 1.0' in metrics
    helps = [line.split()[2] for line in metrics.splitlines() if line.startswith("# HELP ")]
    assert len(helps) == len(set(helps)), "a metric family written twice"


def test_a_worker_on_its_own_serves_its_metrics(settings: Settings) -> None:
    """``rxhub serve`` and ``rxhub worker`` as separate processes (the compose layout): the worker's counters
    are on its own metrics port."""
    mllp, http, metrics_port = _free_port(), _free_port(), _free_port()
    env = _env(settings, mllp, http)
    serve = subprocess.Popen([*RXHUB, "serve"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    worker = subprocess.Popen(
        [*RXHUB, "worker", "intake"],
        env={**env, "RXHUB_WORKER_METRICS_PORT": str(metrics_port)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert serve.stdout is not None and worker.stdout is not None
        assert f"MLLP on 127.0.0.1:{mllp}" in serve.stdout.readline()
        assert f"metrics on http://127.0.0.1:{metrics_port}/metrics" in worker.stdout.readline()
        sent = subprocess.run([*RXHUB, "send", str(SAMPLE)], env=env, capture_output=True, text=True, timeout=180)
        assert "MSA|AA|RXH-DEMO-0004" in sent.stdout, sent.stderr

        def counted_intake() -> str | None:
            metrics = httpx.get(f"http://127.0.0.1:{metrics_port}/metrics", timeout=60).text
            lines = "\n".join(
                line
                for line in metrics.splitlines()
                if line.startswith("rxhub_commands_total{") and 'step="intake"' in line
            )
            return lines if 'result="ok"' in lines and lines.rstrip().endswith(" 2.0") else None  # both orders

        counted = wait_for(counted_intake, "the worker's intake counters", timeout_s=180)
        assert 'command="ReceivePrescription"' in counted and counted.rstrip().endswith(" 2.0"), counted
    finally:
        for process in (worker, serve):
            process.send_signal(signal.SIGTERM)
        for process in (worker, serve):
            try:
                process.wait(timeout=120)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
