"""Limits before work on both doors: bodies bounded while read (413 before the token is checked), header size,
count and deadline, body deadline, MLLP frame deadline, and connection caps in all and per client address."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import pytest

from adapters.hl7.listener import MllpListener
from adapters.hl7.mllp_framing import FrameTooLarge, frame
from hub.persistence.audit import AuditTrail
from hub.security.connection_budget import ConnectionBudget
from hub.security.principals import Peer
from tests.conftest import make_settings
from tests.security.http_app import App, http_app

MSG = b"MSH|^~\\&|EHR|NORTH|RXHUB|PHARMACY|20260101||RDE^O11|1|P|2.5\r"
#: a staff route that reads a JSON body, up to the end of its Host header
VERIFY = b"POST /api/prescriptions/x/data-verification HTTP/1.1\r\nHost: hub\r\n"
ACK = b"MSH|^~\\&|RXHUB|PHARMACY|||20260101||ACK|1|P|2.5\rMSA|AA|1\r"


@contextmanager
def limited_app(amqp_url: str, tmp_path: Path, header_timeout_s: float) -> Iterator[App]:
    settings = make_settings(
        amqp_url,
        f"sqlite:///{tmp_path / 'rxhub.sqlite3'}",
        auth_failure_limit=2,
        http_max_body_bytes=10_000,
        http_fhir_max_body_bytes=20_000,
        http_max_header_bytes=8192,
        http_max_header_count=30,
        http_header_timeout_s=header_timeout_s,
        http_body_timeout_s=0.5,
        http_max_connections=12,
        http_max_connections_per_address=5,
    )
    with http_app(settings) as running:
        yield running


@pytest.fixture
def app(amqp_url: str, tmp_path: Path) -> Iterator[App]:
    with limited_app(amqp_url, tmp_path, header_timeout_s=0.5) as running:
        yield running


@pytest.fixture
def patient_app(amqp_url: str, tmp_path: Path) -> Iterator[App]:
    """Idle connections stay until the test closes them."""
    with limited_app(amqp_url, tmp_path, header_timeout_s=60) as running:
        yield running


def _port(app: App) -> int:
    return int(str(app.client.base_url).rsplit(":", 1)[1].rstrip("/"))


def _connect(port: int, source: str = "127.0.0.1") -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=10, source_address=(source, 0))
    return sock


def _answer(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection."""
    chunks = []
    while chunk := sock.recv(65536):
        chunks.append(chunk)
    return b"".join(chunks)


def _status(raw: bytes) -> int:
    return int(raw.split(b" ", 2)[1])


def _audited(app: App) -> int:
    return len(AuditTrail(app.engine).query())


def test_a_declared_oversize_body_is_refused_before_the_token_is_checked(app: App) -> None:
    bad = {"Authorization": "Bearer rxh_guessing"}
    assert [app.client.get("/api/me", headers=bad).status_code for _ in range(3)] == [401, 401, 429]
    before = _audited(app)
    big = app.client.post("/api/prescriptions/x/data-verification", content=b"{" + b" " * 20_000 + b"}", headers=bad)
    assert big.status_code == 413 and big.headers["connection"] == "close"
    fhir = app.client.post("/fhir/Bundle", content=b" " * 30_000, headers={"Content-Type": "application/fhir+json"})
    assert fhir.status_code == 413 and fhir.json()["issue"][0]["code"] == "too-costly"
    assert _audited(app) == before, "no token check, no audit entry: nothing was done for it"


def test_a_chunked_body_is_cut_off_at_the_limit_while_it_is_read(app: App) -> None:
    with _connect(_port(app)) as sock:
        sock.sendall(VERIFY + b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n")
        chunk = b"%x\r\n%s\r\n" % (4096, b" " * 4096)
        with pytest.raises(OSError):  # the server answers and closes long before 100 MB are sent
            for _ in range(25_000):
                sock.sendall(chunk)
        assert _status(_answer(sock)) == 413


def test_a_body_that_does_not_arrive_in_time_is_answered_408(app: App) -> None:
    with _connect(_port(app)) as sock:
        sock.sendall(VERIFY + b"Content-Length: 100\r\n\r\n{")
        assert _status(_answer(sock)) == 408


def test_oversize_headers_are_answered_431_and_the_connection_closed(app: App) -> None:
    with _connect(_port(app)) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: hub\r\nX-Big: " + b"a" * 20_000 + b"\r\n\r\n")
        assert _status(_answer(sock)) == 431
    with _connect(_port(app)) as sock:  # the header never ends: cut off once it passes the limit
        with pytest.raises(OSError):
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: hub\r\nX-Big: ")
            for _ in range(10_000):
                sock.sendall(b"a" * 4096)
        assert _status(_answer(sock)) == 431
    many = b"".join(b"X-H%d: 1\r\n" % n for n in range(40))
    with _connect(_port(app)) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: hub\r\n" + many + b"\r\n")
        assert _status(_answer(sock)) == 431
    assert app.client.get("/healthz").status_code == 200


def test_headers_that_come_too_slowly_end_the_connection(app: App) -> None:
    with _connect(_port(app)) as silent, _connect(_port(app)) as dribbling:
        dribbling.sendall(b"GET /healthz HTTP/1.1\r\nHost: hub\r\n")
        assert _status(_answer(dribbling)) == 408
        assert _status(_answer(silent)) == 408
    with _connect(_port(app)) as keep_alive:  # a request's own deadline starts when it begins
        keep_alive.sendall(b"GET /healthz HTTP/1.1\r\nHost: hub\r\n\r\n")
        assert _status(keep_alive.recv(65536)) == 200


def test_connections_are_capped_per_address_and_in_all(patient_app: App) -> None:
    port = _port(patient_app)
    with ExitStack() as held:
        for _ in range(5):
            held.enter_context(_connect(port, "127.0.0.1"))
        with _connect(port, "127.0.0.1") as sixth:
            raw = _answer(sixth)
            assert _status(raw) == 503 and b"retry-after" in raw
        with _connect(port, "127.0.0.2") as other:
            other.sendall(b"GET /healthz HTTP/1.1\r\nHost: hub\r\nConnection: close\r\n\r\n")
            assert _status(_answer(other)) == 200, "another address is served"
        for _ in range(5):
            held.enter_context(_connect(port, "127.0.0.3"))
        for _ in range(2):
            held.enter_context(_connect(port, "127.0.0.4"))
        with _connect(port, "127.0.0.5") as over:
            assert _status(_answer(over)) == 503, "the total cap holds whatever the address"
    with _connect(port, "127.0.0.1") as again:  # the closed ones were given back
        again.sendall(b"GET /healthz HTTP/1.1\r\nHost: hub\r\nConnection: close\r\n\r\n")
        assert _status(_answer(again)) == 200


def test_the_budget_counts_and_gives_back() -> None:
    budget = ConnectionBudget(total=3, per_address=2)
    assert budget.admit("a") and budget.admit("a") and not budget.admit("a")
    assert budget.admit("b") and not budget.admit("c")
    budget.release("a")
    assert budget.admit("c") and budget.open == 3
    budget.release("b")
    assert budget.admit("proxy", per_address=3)


async def _ack(_payload: bytes, _peer: Peer) -> bytes:
    return ACK


def _refuse(_item: FrameTooLarge, _peer: Peer) -> bytes:
    return ACK


@contextmanager
def mllp(**limits: object) -> Iterator[int]:
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    server = MllpListener(_ack, _refuse, host="127.0.0.1", port=0, **limits)  # type: ignore[arg-type]
    asyncio.run_coroutine_threadsafe(server.start(), loop).result(5)
    try:
        yield server.port
    finally:
        asyncio.run_coroutine_threadsafe(server.stop(), loop).result(5)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)
        loop.close()


def _exchange(sock: socket.socket, payload: bytes = MSG) -> bytes:
    sock.sendall(frame(payload))
    received = b""
    while not received.endswith(b"\x1c\r"):
        chunk = sock.recv(65536)
        assert chunk, "closed before the ACK"
        received += chunk
    return received


def test_an_mllp_frame_that_is_not_finished_in_time_ends_the_connection() -> None:
    with mllp(frame_timeout_s=0.5, idle_timeout_s=30) as port:
        with _connect(port) as slow, _connect(port) as junk, _connect(port) as good:
            slow.sendall(b"\x0bMSH|^~\\&|EHR")
            junk.sendall(b"no start block at all")
            assert _exchange(good) == frame(ACK)
            assert _answer(slow) == b"" and _answer(junk) == b""
            assert _exchange(good) == frame(ACK), "a connection that finishes its frames stays open"


def test_mllp_connections_are_capped_per_address_and_in_all() -> None:
    with mllp(budget=ConnectionBudget(total=6, per_address=3)) as port, ExitStack() as held:
        first = held.enter_context(_connect(port, "127.0.0.1"))
        for _ in range(2):
            held.enter_context(_connect(port, "127.0.0.1"))
        assert _exchange(first) == frame(ACK), "the connection was accepted and counted"
        with _connect(port, "127.0.0.1") as fourth:
            assert _answer(fourth) == b"", "closed at once"
        other = held.enter_context(_connect(port, "127.0.0.2"))
        assert _exchange(other) == frame(ACK)
        for _ in range(2):
            held.enter_context(_connect(port, "127.0.0.3"))
        with _connect(port, "127.0.0.4") as over:
            assert _answer(over) == b""


def test_the_caps_are_fitted_into_the_descriptor_limit() -> None:
    from hub.security.file_descriptors import RESERVED, fit_caps

    assert fit_caps(100_000, 4096, 1024) == (4096, 1024), "room enough: unchanged"
    http, mllp = fit_caps(1024, 4096, 1024)
    assert http + mllp <= 1024 - RESERVED and http > mllp > 0, "scaled down together, in proportion"


def test_the_fhir_door_takes_its_limit_from_the_setting_for_coded_bodies_too(app: App) -> None:
    import gzip

    feed = {**app.as_role("feed"), "Content-Type": "application/fhir+json", "Content-Encoding": "gzip"}
    bomb = gzip.compress(b"{" + b" " * 100_000 + b'"resourceType": "Bundle"}')
    assert len(bomb) < 20_000
    answer = app.client.post("/fhir/Bundle", content=bomb, headers=feed)
    assert answer.status_code == 413 and "20000" in answer.json()["issue"][0]["diagnostics"]


def test_a_raised_fhir_limit_admits_a_larger_body(amqp_url: str, tmp_path: Path) -> None:
    settings = make_settings(amqp_url, f"sqlite:///{tmp_path / 'rxhub.sqlite3'}", http_fhir_max_body_bytes=6_000_000)
    with http_app(settings) as running:
        body = b'{"resourceType": "Bundle", "type": "message", "entry": []' + b" " * 5_000_000 + b"}"
        answer = running.client.post(
            "/fhir/Bundle", content=body, headers={**running.as_role("feed"), "Content-Type": "application/fhir+json"}
        )
        assert answer.status_code != 413, answer.text
