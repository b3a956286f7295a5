"""The posture check runs before any broker connection: guest credentials are never sent to a remote broker,
and nothing is declared there, by any command that would connect."""

from __future__ import annotations

import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from hub.config import Settings
from tests.support.processes import RXHUB, free_port, hub_env


def _local_address() -> str:
    """An address of this machine that is not loopback (the 'remote' broker), or skip."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.123", 9))
        except OSError:
            pytest.skip("no route off loopback")
        address = str(probe.getsockname()[0])
    if address.startswith("127."):
        pytest.skip("no address off loopback")
    return address


@pytest.fixture
def remote_broker() -> Iterator[tuple[str, socket.socket]]:
    """A TCP port on a non-loopback address standing in for a remote broker: it only counts who connects."""
    address = _local_address()
    with socket.socket() as listener:
        listener.bind((address, 0))
        listener.listen(16)
        listener.setblocking(False)
        yield f"amqp://guest:guest@{address}:{listener.getsockname()[1]}/%2F", listener


@pytest.mark.parametrize("command", [["serve"], ["run", "--worker-processes", "0"], ["topology"], ["payer-sim"]])
def test_guest_on_a_remote_broker_is_refused_before_any_connection(
    command: list[str], remote_broker: tuple[str, socket.socket], settings: Settings, tmp_path: Path
) -> None:
    url, listener = remote_broker
    env = {**hub_env(settings, free_port(), free_port()), "RXHUB_AMQP_URL": url, "RXHUB_ALLOW_PLAINTEXT": "true"}
    done = subprocess.run([*RXHUB, *command], env=env, capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert "refusing the default guest credentials" in done.stderr
    assert "guest:guest" not in done.stderr + done.stdout
    with pytest.raises(BlockingIOError):
        listener.accept()  # nobody connected: no credentials sent, nothing declared
