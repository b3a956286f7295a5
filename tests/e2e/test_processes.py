"""The real entry points as real processes: `rxhub run`, `rxhub send`, `rxhub topology`, clean SIGTERM."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from hub.config import Settings
from hub.persistence.database import make_engine
from hub.persistence.tables import prescriptions
from tests.support.processes import free_port as _free_port
from tests.support.processes import hub_env as _env

ROOT = Path(__file__).resolve().parents[2]
RXHUB = [sys.executable, "-m", "hub.entrypoints.cli"]
SAMPLE = ROOT / "samples" / "hl7" / "04_orm_o01_v23_two_orders.hl7"


@pytest.mark.parametrize("worker_processes", [None, 0, 2])
def test_run_send_and_a_clean_sigterm(settings: Settings, worker_processes: int | None) -> None:
    mllp, http = _free_port(), _free_port()
    env = _env(settings, mllp, http)
    topology = subprocess.run([*RXHUB, "topology"], env=env, capture_output=True, text=True, timeout=60)
    assert topology.returncode == 0 and f"{settings.broker_prefix}.intake (quorum)" in topology.stdout
    forks = [] if worker_processes is None else ["--worker-processes", str(worker_processes)]  # None: the default
    hub = subprocess.Popen([*RXHUB, "run", *forks], env=env,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert hub.stdout is not None
        line = hub.stdout.readline()
        assert f"MLLP on 127.0.0.1:{mllp}" in line, line
        sent = subprocess.run([*RXHUB, "send", str(SAMPLE)], env=env, capture_output=True, text=True, timeout=60)
        assert sent.returncode == 0, sent.stderr
        assert "MSA|AA|RXH-DEMO-0004" in sent.stdout
        engine = make_engine(settings.database_url.get_secret_value())
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with engine.connect() as conn:
                if conn.execute(select(func.count()).select_from(prescriptions)).scalar_one() == 2:
                    break
            time.sleep(0.2)
        with engine.connect() as conn:
            assert conn.execute(select(func.count()).select_from(prescriptions)).scalar_one() == 2
        engine.dispose()
        _assert_workers_counted(http)
        started = time.monotonic()
        hub.send_signal(signal.SIGTERM)
        assert hub.wait(timeout=30) == 0
        assert time.monotonic() - started < 30
    finally:
        if hub.poll() is None:
            hub.kill()
            hub.wait()


def _assert_workers_counted(http: int) -> None:
    """``/metrics`` of ``rxhub run`` counts what its workers did, whichever process they run in, each metric
    family written once (a second HELP line for a name is invalid exposition text)."""
    metrics = httpx.get(f"http://127.0.0.1:{http}/metrics", timeout=20).text
    assert 'rxhub_commands_total{command="ReceivePrescription",result="ok",step="intake"} 2.0' in metrics
    assert 'rxhub_handler_seconds_count{' in metrics and 'step="intake"' in metrics
    assert 'rxhub_messages_total{door="hl7",outcome="accepted"} 1.0' in metrics
    helps = [line.split()[2] for line in metrics.splitlines() if line.startswith("# HELP ")]
    assert len(helps) == len(set(helps)), "a metric family written twice"


def test_a_worker_on_its_own_serves_its_metrics(settings: Settings) -> None:
    """``rxhub serve`` and ``rxhub worker`` as separate processes (the compose layout): the worker's counters
    are on its own metrics port."""
    mllp, http, metrics_port = _free_port(), _free_port(), _free_port()
    env = _env(settings, mllp, http)
    serve = subprocess.Popen([*RXHUB, "serve"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    worker = subprocess.Popen([*RXHUB, "worker", "intake"], env={**env, "RXHUB_WORKER_METRICS_PORT": str(metrics_port)},
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert serve.stdout is not None and worker.stdout is not None
        assert f"MLLP on 127.0.0.1:{mllp}" in serve.stdout.readline()
        assert f"metrics on http://127.0.0.1:{metrics_port}/metrics" in worker.stdout.readline()
        sent = subprocess.run([*RXHUB, "send", str(SAMPLE)], env=env, capture_output=True, text=True, timeout=60)
        assert "MSA|AA|RXH-DEMO-0004" in sent.stdout, sent.stderr
        counted = ""
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and "result=\"ok\"" not in counted:
            metrics = httpx.get(f"http://127.0.0.1:{metrics_port}/metrics", timeout=10).text
            counted = "\n".join(line for line in metrics.splitlines()
                                if line.startswith("rxhub_commands_total{") and 'step="intake"' in line)
            time.sleep(0.2)
        assert 'command="ReceivePrescription"' in counted and counted.rstrip().endswith(" 2.0"), counted
    finally:
        for process in (worker, serve):
            process.send_signal(signal.SIGTERM)
        for process in (worker, serve):
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
