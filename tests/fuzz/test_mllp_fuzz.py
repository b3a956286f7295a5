"""MLLP transport abuse: binary junk, huge frames, no end block, slow senders, a thousand idle connections.

The box running CI has 2 cores, so the idle-connection flood is kept to 1,000 sockets.
"""

from __future__ import annotations

import socket
import time

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hub.entrypoints.mllp_client import MllpClient
from tests.chaos.orders import ack_code, hl7_order
from tests.fuzz.conftest import TRIED, FuzzHub

SB, EB = b"\x0b", b"\x1c\r"
FUZZ = settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
#: how much the listener may grow over a fuzz run (allocator arenas, logs) before we call it a leak
RSS_SLACK_KB = 60_000


def _connect(hub: FuzzHub) -> socket.socket:
    return socket.create_connection(("127.0.0.1", hub.env.mllp_port), timeout=15)


def _read_frame(sock: socket.socket) -> bytes:
    buf = b""
    while EB not in buf:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError(f"closed before a whole ACK: {buf[:200]!r}")
        buf += chunk
    return buf[buf.find(SB) + 1 : buf.find(EB)]


def _msa1(ack: bytes) -> bytes:
    for segment in ack.split(b"\r"):
        if segment.startswith(b"MSA"):
            return segment.split(segment[3:4])[1]
    return b""


def test_binary_junk_outside_and_inside_frames(fuzz_hub: FuzzHub) -> None:
    before = fuzz_hub.rss_kb()

    @FUZZ
    @given(junk=st.binary(max_size=4096), framed=st.booleans())
    def send(junk: bytes, framed: bool) -> None:
        TRIED["mllp transport"] += 1
        payload = junk.replace(SB, b"").replace(b"\x1c", b"")
        with _connect(fuzz_hub) as sock:
            if not framed:
                sock.sendall(junk)  # no start block: the decoder discards it; nothing to answer
                return
            sock.sendall(SB + payload + EB)
            assert _msa1(_read_frame(sock)) in (b"AR", b"AE", b"CR", b"CE", b"AA", b"CA")

    send()
    fuzz_hub.assert_serving()
    assert fuzz_hub.rss_kb() - before < RSS_SLACK_KB


def test_huge_frame_gets_ar_and_the_connection_serves_the_next_message(fuzz_hub: FuzzHub) -> None:
    before = fuzz_hub.rss_kb()
    with _connect(fuzz_hub) as sock:
        for size in (1_048_577, 8_000_000):
            TRIED["mllp transport"] += 1
            sock.sendall(SB + b"MSH|^~\\&|" + b"X" * size + EB)
            assert _msa1(_read_frame(sock)) == b"AR"
        sock.sendall(SB + hl7_order("HUGE-NEXT", "FZHUGE1") + EB)
        assert ack_code(_read_frame(sock), "HUGE-NEXT") == "AA"
    fuzz_hub.assert_serving()
    assert fuzz_hub.rss_kb() - before < RSS_SLACK_KB


def test_frames_without_an_end_block_do_not_hold_the_listener(fuzz_hub: FuzzHub) -> None:
    for size in (10, 60_000, 900_000):
        TRIED["mllp transport"] += 1
        with _connect(fuzz_hub) as sock:
            sock.sendall(SB + b"MSH|^~\\&|" + b"Y" * size)  # and hang up without the end block
    with _connect(fuzz_hub) as sock:  # a restarted frame: the SB begins a new message
        TRIED["mllp transport"] += 1
        sock.sendall(SB + b"MSH|^~\\&|half a message" + hl7_order("NOEND-NEXT", "FZNOEND1").join([SB, EB]))
        assert ack_code(_read_frame(sock), "NOEND-NEXT") == "AA"
    fuzz_hub.assert_serving()


def test_a_slow_sender_is_served_and_does_not_block_others(fuzz_hub: FuzzHub) -> None:
    message = SB + hl7_order("SLOW-1", "FZSLOW1") + EB
    with _connect(fuzz_hub) as slow:
        for i in range(0, len(message) - 40, 40):
            slow.sendall(message[i : i + 40])
            time.sleep(0.1)
            if i == 200:
                started = time.monotonic()
                fuzz_hub.assert_serving()  # another client is answered while this one dawdles
                assert time.monotonic() - started < 5
        slow.sendall(message[i + 40 :])
        TRIED["mllp transport"] += 1
        assert ack_code(_read_frame(slow), "SLOW-1") == "AA"


def test_a_thousand_idle_connections_leave_the_listener_serving(fuzz_hub: FuzzHub) -> None:
    before = fuzz_hub.rss_kb()
    idle = []
    try:
        for n in range(1000):
            # 50 a source address (127.0.0.2 and up): under the per-address cap, as 1,000 real clients would be
            source = (f"127.0.0.{2 + n // 50}", 0)
            idle.append(socket.create_connection(("127.0.0.1", fuzz_hub.env.mllp_port), 15, source))
            TRIED["mllp transport"] += 1
        with MllpClient("127.0.0.1", fuzz_hub.env.mllp_port, timeout_s=20) as client:
            assert ack_code(client.send(hl7_order("IDLE-1", "FZIDLE1")), "IDLE-1") == "AA"
        during = fuzz_hub.rss_kb()
    finally:
        for sock in idle:
            sock.close()
    fuzz_hub.assert_serving()
    assert during - before < 100_000, f"1,000 idle connections cost {during - before} KiB"
