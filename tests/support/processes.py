"""The hub as an operator runs it: ``rxhub`` commands as real processes, driven over MLLP and the staff API."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeVar

import httpx
import pika
import pika.exceptions

from hub.config import Settings

ROOT = Path(__file__).resolve().parents[2]
#: this checkout's CLI (tests that install the hub elsewhere pass their own ``rxhub``)
RXHUB = [sys.executable, "-m", "hub.entrypoints.cli"]
#: a retail order the payer simulator pays (BIN 999001 from the settings' house plan)
RETAIL_ORDER = ROOT / "samples" / "hl7" / "01_rde_o11_retail_amoxicillin.hl7"
RETAIL_PLACER, RETAIL_NDC = "PLC1001", "00093005801"
#: RXHUB_* settings under which the retail order is billed to the simulated payer
HOUSE_PLAN = {"RXHUB_DEFAULT_BIN": "999001", "RXHUB_DEFAULT_PCN": "RXHUB", "RXHUB_DEFAULT_GROUP": "GRP1"}

T = TypeVar("T")


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def hub_env(settings: Settings, mllp: int, http: int) -> dict[str, str]:
    """This process's environment plus the RXHUB_* variables naming the test's broker, database and ports."""
    return {
        **os.environ,
        "RXHUB_AMQP_URL": settings.amqp_url.get_secret_value(),
        "RXHUB_DATABASE_URL": settings.database_url.get_secret_value(),
        "RXHUB_BROKER_PREFIX": settings.broker_prefix,
        "RXHUB_MLLP_PORT": str(mllp),
        "RXHUB_HTTP_PORT": str(http),
        "RXHUB_LOG_LEVEL": "WARNING",
    }


def wait_for(probe: Callable[[], T | None], what: str, timeout_s: float = 90) -> T:
    """Poll ``probe`` until it returns something truthy; the deadline only bounds a hub that never gets there."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = probe()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"{what}: not within {timeout_s:.0f} s")


def consumers(amqp_url: str, queue: str) -> int:
    """Consumers on ``queue`` now (0 when it does not exist yet)."""
    connection = pika.BlockingConnection(pika.URLParameters(amqp_url))
    try:
        return int(connection.channel().queue_declare(queue, passive=True).method.consumer_count)
    except pika.exceptions.ChannelClosedByBroker:
        return 0
    finally:
        if connection.is_open:
            connection.close()


def first_line(process: subprocess.Popen[str], containing: str) -> str:
    """The first stdout line of ``process`` that holds ``containing`` (``rxhub run`` prints its ports)."""
    assert process.stdout is not None
    for line in process.stdout:
        if containing in line:
            return line
    raise AssertionError(f"exited {process.wait()} before printing {containing!r}")


def stop(*processes: subprocess.Popen[str]) -> None:
    """SIGTERM, then SIGKILL what did not exit in time."""
    for process in processes:
        if process.poll() is None:
            process.terminate()
    for process in processes:
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def add_user(
    rxhub: Sequence[str], env: dict[str, str], name: str, role: str, *extra: str, cwd: Path | None = None
) -> str:
    """``rxhub users add``; the token it prints once."""
    made = subprocess.run(
        [*rxhub, "users", "add", name, "--role", role, *extra],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert made.returncode == 0, made.stderr
    found = re.search(r"^token: (\S+)$", made.stdout, re.M)
    assert found, made.stdout
    return found.group(1)


def retail_order_to_ready(rxhub: Sequence[str], env: dict[str, str], cwd: Path | None = None) -> str:
    """A technician stocks the drug, the retail order goes in over MLLP (``rxhub send``), the payer pays it and a
    pharmacist approves both verifications over the staff API; returns the prescription id once it is ready."""
    http = f"http://127.0.0.1:{env['RXHUB_HTTP_PORT']}/api"
    tech = {"Authorization": f"Bearer {add_user(rxhub, env, 'tina.tech', 'technician', cwd=cwd)}"}
    rph_token = add_user(rxhub, env, "paul.pharm", "pharmacist", "--licence", "RPH-1", cwd=cwd)
    rph = {"Authorization": f"Bearer {rph_token}"}
    stocked = httpx.post(
        f"{http}/inventory",
        headers=tech,
        timeout=30,
        json={"ndc": RETAIL_NDC, "lot": "LOT-A", "expiry": "2030-01-31", "quantity": "500"},
    )
    assert stocked.status_code == 202, stocked.text
    sent = subprocess.run(
        [*rxhub, "send", str(RETAIL_ORDER)], env=env, cwd=cwd, capture_output=True, text=True, timeout=120
    )
    assert sent.returncode == 0 and "MSA|AA|" in sent.stdout, (sent.stdout, sent.stderr)

    def state() -> dict[str, str] | None:
        found = httpx.get(
            f"{http}/prescriptions", params={"placer_order_number": RETAIL_PLACER}, headers=rph, timeout=30
        ).json()
        return found[0] if found else None

    for stage in ("data", "product"):
        rx = wait_for(
            lambda s=stage: (x := state()) and x["state"] == f"{s}_verification" and x,  # type: ignore[misc]
            f"order at {stage} verification",
        )
        approved = httpx.post(
            f"{http}/prescriptions/{rx['prescription_id']}/{stage}-verification",
            headers=rph,
            json={"approve": True},
            timeout=30,
        )
        assert approved.status_code == 202, approved.text
    return str(wait_for(lambda: (x := state()) and x["state"] == "ready" and x, "order ready")["prescription_id"])
