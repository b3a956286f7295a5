"""A client slower than the keep-alive timer at reading a large answer keeps its connection: the timer counts
idle time from when the answer was sent, not from when it was buffered (issue 31)."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn

from tests.conftest import make_settings
from tests.security.http_app import App, http_app

#: the largest answer the app serves, a static file (FileResponse sends it in 64 KiB parts)
LARGE = "/docs/assets/swagger-ui-bundle.js"
#: uvicorn's keep-alive timeout: the hub does not change it
KEEP_ALIVE_S = uvicorn.Config(app="hub").timeout_keep_alive


@pytest.fixture
def app(amqp_url: str, tmp_path: Path) -> Iterator[App]:
    with http_app(make_settings(amqp_url, f"sqlite:///{tmp_path / 'rxhub.sqlite3'}")) as running:
        yield running


def _request(sock: socket.socket, path: str) -> None:
    sock.sendall(f"GET {path} HTTP/1.1\r\nHost: hub\r\n\r\n".encode())


def _head(sock: socket.socket) -> tuple[int, int, bytes]:
    """Status, Content-Length and the body bytes read with the head."""
    raw = b""
    while b"\r\n\r\n" not in raw:
        chunk = sock.recv(4096)
        assert chunk, f"the connection closed before an answer (after {raw[:60]!r})"
        raw += chunk
    head, body = raw.split(b"\r\n\r\n", 1)
    lines = head.split(b"\r\n")
    length = next(int(line.split(b":")[1]) for line in lines if line.lower().startswith(b"content-length:"))
    return int(lines[0].split(b" ")[1]), length, body


def _body(sock: socket.socket, length: int, body: bytes) -> int:
    while len(body) < length:
        chunk = sock.recv(65536)
        assert chunk, f"the answer was cut off after {len(body)} of {length} bytes"
        body += chunk
    return len(body)


def test_a_slow_reader_of_a_large_answer_keeps_its_connection(app: App) -> None:
    port = int(str(app.client.base_url).rsplit(":", 1)[1].rstrip("/"))
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)  # most of the answer waits on the hub
    with sock:
        sock.settimeout(30)
        sock.connect(("127.0.0.1", port))
        _request(sock, LARGE)
        status, length, body = _head(sock)
        assert status == 200 and length > 1_000_000
        time.sleep(KEEP_ALIVE_S + 1)  # the client, not the test, is slow: it reads nothing for a while
        assert _body(sock, length, body) == length
        _request(sock, "/healthz")  # the same connection, at once: not idle yet
        status, length, body = _head(sock)
        assert status == 200 and _body(sock, length, body) == length
