"""Real MLLP receivers on 127.0.0.1 for the outbound tests, well-behaved or scripted to misbehave.

A script decides, per received message, what the receiver does: answer (any code, any MSA-2, after a
delay), stay silent, or drop the connection.  Like a real EHR interface, the receiver dedupes on MSH-10:
``delivered`` lists each control id once, in the order it was first accepted.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass, field

from adapters.hl7.acks import build_ack
from adapters.hl7.mllp_framing import MllpDecoder, frame
from adapters.hl7.parsing import parse_message
from hub.errors import Problem


@dataclass(frozen=True)
class Ack:
    """Answer with ``code``; ``control_id`` overrides MSA-2 (a stray/late ACK); ``delay_s`` before sending."""

    code: str = "AA"
    control_id: str | None = None
    delay_s: float = 0.0
    error: str = ""


@dataclass(frozen=True)
class Drop:
    """Close the connection without answering."""


@dataclass(frozen=True)
class Silent:
    """Never answer this message."""


@dataclass(frozen=True)
class Garbage:
    """Send a frame that is no HL7 message at all."""

    data: bytes = b"\x00\x01 not an HL7 message"


Action = Ack | Drop | Silent | Garbage
#: (index of this message among all received, its control id) -> what to do, in order
Script = Callable[[int, str], list[Action]]


def always_accept(_index: int, _control_id: str) -> list[Action]:
    """A well-behaved receiver."""
    return [Ack()]


@dataclass
class Receiver:
    """A threaded MLLP server; ``received`` holds every payload in arrival order."""

    script: Script = always_accept
    port: int = 0
    received: list[bytes] = field(default_factory=list)
    delivered: list[str] = field(default_factory=list)
    #: cleared: connections are accepted but nothing is read from them (a receiver that hangs)
    reading: threading.Event = field(default_factory=threading.Event)
    _server: socket.socket | None = None
    _stop: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self) -> Receiver:
        """Listen (on the same port as before, after a ``stop``)."""
        server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server.bind(("127.0.0.1", self.port))
        server.listen(8)
        server.settimeout(0.2)
        self.port = server.getsockname()[1]
        self._server, self._stop = server, threading.Event()
        threading.Thread(target=self._accept, args=(server, self._stop), daemon=True).start()
        return self

    def stop(self) -> None:
        """Stop listening and drop open connections (the destination goes down)."""
        self._stop.set()
        if self._server is not None:
            # shutdown first: a close alone leaves the socket listening until the blocked accept() times out,
            # and a connection it queues meanwhile is then reset instead of refused
            with suppress(OSError):
                self._server.shutdown(socket.SHUT_RDWR)
            self._server.close()
            self._server = None

    def __post_init__(self) -> None:
        self.reading.set()

    def control_ids(self) -> list[str]:
        """MSH-10 of every received message, resends included."""
        return [parse_message(m).header.control_id for m in self.received]

    def wait_delivered(self, count: int, timeout_s: float = 30.0) -> list[str]:
        """Block until ``count`` distinct messages were accepted."""
        deadline = time.monotonic() + timeout_s
        while len(self.delivered) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        return list(self.delivered)

    def _accept(self, server: socket.socket, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except (TimeoutError, OSError):
                continue
            threading.Thread(target=self._serve, args=(conn, stop), daemon=True).start()

    def _serve(self, conn: socket.socket, stop: threading.Event) -> None:
        decoder = MllpDecoder(1_048_576)
        conn.settimeout(0.2)
        with conn:
            while not stop.is_set():
                if not self.reading.wait(0.2):
                    continue
                try:
                    data = conn.recv(65536)
                except TimeoutError:
                    continue
                except OSError:
                    return
                if not data:
                    return
                for payload in decoder.feed(data):
                    if isinstance(payload, bytes) and not self._answer(conn, payload):
                        return

    def _mark_delivered(self, control_id: str) -> None:
        # processed as soon as it decides to accept, even if the ACK then never reaches the sender
        with self._lock:
            if control_id not in self.delivered:
                self.delivered.append(control_id)

    def _answer(self, conn: socket.socket, payload: bytes) -> bool:
        header = parse_message(payload).header
        with self._lock:
            index = len(self.received)
            self.received.append(payload)
        for action in self.script(index, header.control_id):
            if isinstance(action, Drop):
                return False
            if isinstance(action, Garbage):
                conn.sendall(frame(action.data))
                continue
            if isinstance(action, Ack):
                time.sleep(action.delay_s)
                answered = header.model_copy(update={"control_id": action.control_id or header.control_id})
                problems = [Problem("207", action.error)] if action.error else []
                ack = build_ack(
                    answered,
                    action.code,
                    problems,
                    sending_application="EHR",
                    sending_facility="HOSP",
                    control_id=f"ACK{index}",
                )
                if action.code in ("AA", "CA") and action.control_id is None:
                    self._mark_delivered(header.control_id)
                try:
                    conn.sendall(frame(ack))
                except OSError:
                    return False
        return True
