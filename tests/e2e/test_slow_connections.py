"""2,000 slow connections against ``rxhub serve`` started with the usual 1,024 open-file limit: the doors raise
their own limit, hold the slow sockets inside their caps, and a real HL7 order and a real staff request from
another address are still answered."""

from __future__ import annotations

import resource
import socket
import subprocess
from collections.abc import Iterator
from contextlib import ExitStack

import httpx
import pytest

from hub.config import Settings
from hub.entrypoints.mllp_client import split_messages
from tests.support.processes import RETAIL_ORDER, RXHUB, add_user, first_line, free_port, hub_env, stop, wait_for

SLOW = 2_000
#: slow senders' addresses per door, 100 sockets from each
HTTP_SOURCES = [f"127.0.0.{n}" for n in range(10, 20)]
MLLP_SOURCES = [f"127.0.0.{n}" for n in range(20, 30)]


@pytest.fixture(autouse=True)
def _room_for_the_test_sockets() -> Iterator[None]:
    """This process opens 2,000 sockets too: its own soft limit goes up to the hard one for the test."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < SLOW + 512:
        pytest.skip(f"the hard open-file limit ({hard}) is below what the test needs")
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    yield
    resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def _usual_limit() -> None:
    """The child starts as a service usually does, with a soft limit of 1,024 (the hard one stays)."""
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (1024, hard))


def _slow(port: int, source: str, first_bytes: bytes) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=30, source_address=(source, 0))
    sock.sendall(first_bytes)
    return sock


def _still_open(sock: socket.socket) -> bool:
    """True while the server has neither answered nor closed the connection."""
    sock.setblocking(False)
    try:
        sock.recv(1, socket.MSG_PEEK)  # an answer, or the end of the connection
        return False
    except BlockingIOError:
        return True
    except OSError:
        return False
    finally:
        sock.setblocking(True)


def test_the_doors_serve_real_clients_with_2000_slow_connections_open(settings: Settings) -> None:
    mllp, http = free_port(), free_port()
    env = {**hub_env(settings, mllp, http), "RXHUB_HTTP_HEADER_TIMEOUT_S": "600", "RXHUB_MLLP_FRAME_TIMEOUT_S": "600"}
    token = add_user(RXHUB, env, "tech.slow", "technician")
    hub = subprocess.Popen(
        [*RXHUB, "serve"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        preexec_fn=_usual_limit,
    )
    try:
        first_line(hub, "MLLP on")
        with ExitStack() as held:
            http_socks, mllp_socks = [], []
            for n in range(SLOW // 2):
                http_socks.append(
                    held.enter_context(
                        _slow(http, HTTP_SOURCES[n % len(HTTP_SOURCES)], b"GET /api/me HTTP/1.1\r\nHost: hub\r\nX-")
                    )
                )
                mllp_socks.append(
                    held.enter_context(_slow(mllp, MLLP_SOURCES[n % len(MLLP_SOURCES)], b"\x0bMSH|^~\\&|SLOW"))
                )

            # over 1,024 descriptors held by a process that started with 1,024: it raised its own limit
            held_http = wait_for(
                lambda: sum(map(_still_open, http_socks)) == SLOW // 2 or None,
                "the HTTP door holds every slow connection (under its caps)",
                timeout_s=60,
            )
            assert held_http
            per_address = 64  # RXHUB_MLLP_MAX_CONNECTIONS_PER_ADDRESS's default: the rest were closed at once
            kept = wait_for(
                lambda: sum(map(_still_open, mllp_socks)) == per_address * len(MLLP_SOURCES) or None,
                "the MLLP door keeps its per-address cap",
                timeout_s=60,
            )
            assert kept

            with socket.create_connection(("127.0.0.1", mllp), timeout=60, source_address=("127.0.0.2", 0)) as ehr:
                ehr.sendall(b"\x0b" + split_messages(RETAIL_ORDER.read_bytes())[0] + b"\x1c\r")
                ack = b""
                while not ack.endswith(b"\x1c\r"):
                    chunk = ehr.recv(65536)
                    assert chunk, "the MLLP door closed a real sender's connection"
                    ack += chunk
            assert b"MSA|AA|" in ack

            transport = httpx.HTTPTransport(local_address="127.0.0.2")
            with httpx.Client(transport=transport, timeout=60) as client:
                me = client.get(f"http://127.0.0.1:{http}/api/me", headers={"Authorization": f"Bearer {token}"})
            assert me.status_code == 200 and me.json()["name"] == "tech.slow"
            assert sum(map(_still_open, http_socks)) == SLOW // 2, "the slow ones were held all along"
    finally:
        stop(hub)
