"""``RXHUB_AMQP_URL`` as a list of nodes, as an operator runs the hub: a dead node listed costs nothing, only dead
nodes or an ambiguous list stop a process with one line that never shows the password."""

from __future__ import annotations

import signal
import subprocess
from pathlib import Path

import httpx

from hub.config import Settings
from tests.support.processes import RXHUB, free_port, hub_env, wait_for

SAMPLE = Path(__file__).resolve().parents[2] / "samples" / "hl7" / "04_orm_o01_v23_two_orders.hl7"


def _dead_node(amqp_url: str) -> tuple[str, str]:
    port = free_port()
    return amqp_url.replace("127.0.0.1:5672", f"127.0.0.1:{port}"), f"127.0.0.1:{port}"


def test_rxhub_run_with_a_dead_node_in_the_list(settings: Settings) -> None:
    amqp_url = settings.amqp_url.get_secret_value()
    dead, label = _dead_node(amqp_url)
    mllp, http = free_port(), free_port()
    env = {**hub_env(settings, mllp, http), "RXHUB_AMQP_URL": f"{dead}, {amqp_url}"}
    topology = subprocess.run([*RXHUB, "topology"], env=env, capture_output=True, text=True, timeout=180)
    assert topology.returncode == 0, topology.stderr
    hub = subprocess.Popen(
        [*RXHUB, "run", "--worker-processes", "0"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        assert hub.stdout is not None
        assert f"MLLP on 127.0.0.1:{mllp}" in hub.stdout.readline()
        sent = subprocess.run([*RXHUB, "send", str(SAMPLE)], env=env, capture_output=True, text=True, timeout=180)
        assert sent.returncode == 0 and "MSA|AA|" in sent.stdout, sent.stderr

        def received() -> str | None:  # the workers (consumers, outbox relay) took both orders
            text = httpx.get(f"http://127.0.0.1:{http}/metrics", timeout=60).text
            return (
                text
                if 'rxhub_commands_total{command="ReceivePrescription",result="ok",step="intake"} 2.0' in text
                else None
            )

        metrics = wait_for(received, "both orders handled", timeout_s=180)
        # every connection tries the nodes in shuffled order: some of the dozens tried the dead one first
        assert f'rxhub_broker_connection_failures_total{{node="{label}"}}' in metrics
        hub.send_signal(signal.SIGTERM)
        assert hub.wait(timeout=180) == 0
        assert hub.stderr is not None
        lines = [line for line in hub.stderr.read().splitlines() if label in line]
        assert len(lines) <= 2, lines  # one line per node per interval, not one per attempt
    finally:
        if hub.poll() is None:
            hub.kill()
            hub.wait()


def test_a_worker_with_only_dead_nodes_stops_with_one_line(settings: Settings) -> None:
    amqp_url = settings.amqp_url.get_secret_value().replace("guest:guest", "guest:s3cret")
    first, _ = _dead_node(amqp_url)
    second, _ = _dead_node(amqp_url)
    env = {**hub_env(settings, free_port(), free_port()), "RXHUB_AMQP_URL": f"{first},{second}"}
    worker = subprocess.run([*RXHUB, "worker", "intake"], env=env, capture_output=True, text=True, timeout=180)
    assert worker.returncode == 5, worker.stderr  # README "Exit codes": the broker cannot be reached
    errors = [line for line in worker.stderr.splitlines() if line.startswith("rxhub:")]
    assert len(errors) == 1 and "not reachable on any node" in errors[0], worker.stderr
    assert "s3cret" not in worker.stderr


def test_the_comma_host_form_is_refused_at_start_up(settings: Settings) -> None:
    env = {
        **hub_env(settings, free_port(), free_port()),
        "RXHUB_AMQP_URL": "amqp://guest:s3cret@127.0.0.1:5672,127.0.0.1:5673/rx",
    }
    topology = subprocess.run([*RXHUB, "topology"], env=env, capture_output=True, text=True, timeout=180)
    assert topology.returncode == 2, topology.stderr  # a setting: usage or configuration
    assert topology.stderr.count("\n") == 1 and "amqp_url" in topology.stderr.lower(), topology.stderr
    assert "full amqp:// or amqps:// URL" in topology.stderr and "s3cret" not in topology.stderr
