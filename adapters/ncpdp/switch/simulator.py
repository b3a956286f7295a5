"""A simulated switch (``rxhub switch-sim``): the connector's wire format over real TCP (TLS optional), each
claim handed in-process to the payer simulator's adjudicator.

Fault modes, switchable while running: ``drop`` (the payer decides, then the connection is closed without an
answer: the case where the payer may have paid), ``late`` (the answer comes after ``late_ms``, when the
connector has given up), ``down`` (nothing listens: connections are refused, so the failover switch is used).
"""

from __future__ import annotations

import logging
import socket
import socketserver
import ssl
import threading
from enum import StrEnum

from adapters.ncpdp.payer.config import PayerConfig
from adapters.ncpdp.payer_link.simulator import PayerSimulator
from adapters.ncpdp.switch.framing import ConnectionClosed, Framing, frame, read_frame
from hub.errors import MessageContentError

log = logging.getLogger(__name__)


class Fault(StrEnum):
    """How the simulated switch misbehaves."""

    NONE = "none"
    DROP = "drop"
    LATE = "late"
    DOWN = "down"


class SwitchSimulator:
    """A listening switch in front of one simulated payer; ``port`` is known once started."""

    def __init__(
        self,
        config: PayerConfig,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        framing: Framing = Framing.STX_ETX,
        tls: ssl.SSLContext | None = None,
        fault: Fault = Fault.NONE,
        late_ms: int = 3000,
        fault_times: int | None = None,
    ) -> None:
        self.host, self.port, self.framing, self.tls = host, port, framing, tls
        self.fault, self.late_ms = fault, late_ms
        #: the drop or late fault hits this many claims, then the switch behaves (None: every claim)
        self.fault_times = fault_times
        self._payer = PayerSimulator(config)
        self._payer_lock = threading.Lock()
        self._server: socketserver.ThreadingTCPServer | None = None
        self._thread: threading.Thread | None = None
        self._closing = threading.Event()
        #: claims the payer adjudicated, and answers written back (tests read them)
        self.adjudicated = 0
        self.answered = 0

    def start(self) -> None:
        """Listen (unless the fault is ``down``) and serve on a daemon thread."""
        if self.fault is Fault.DOWN:
            return
        owner = self

        class _Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                owner._serve(self.request)

        server = socketserver.ThreadingTCPServer((self.host, self.port), _Handler, bind_and_activate=False)
        server.allow_reuse_address = True
        server.daemon_threads = True
        server.server_bind()
        server.server_activate()
        self.port = server.server_address[1]
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.1}, name=f"switch-sim-{self.port}", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        """Stop listening (the port is kept for a later ``start``)."""
        self._closing.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(5)
            self._thread = None
        self._closing.clear()

    def go_down(self) -> None:
        """Refuse connections from now on."""
        self.stop()
        self.fault = Fault.DOWN

    def come_up(self) -> None:
        """Listen again on the same port, without faults."""
        self.fault = Fault.NONE
        self.start()

    def _serve(self, raw: socket.socket) -> None:
        try:
            sock = self.tls.wrap_socket(raw, server_side=True) if self.tls else raw
        except (OSError, ssl.SSLError) as exc:
            log.warning("switch-sim TLS handshake failed: %s", exc)
            return
        try:
            while True:
                request = read_frame(sock, self.framing)
                if not self._answer(sock, request):
                    return
        except (ConnectionClosed, MessageContentError, OSError):
            return
        finally:
            sock.close()

    def _answer(self, sock: socket.socket, request: bytes) -> bool:
        """Adjudicate and answer one claim; False when the connection is to be closed."""
        with self._payer_lock:
            answer = self._payer.answer(request)
            self.adjudicated += 1
            fault = self._take_fault()
        log.info("switch-sim: %s (fault %s)", answer.summary, fault)
        if fault is Fault.DROP or answer.response is None:
            return False
        if fault is Fault.LATE and self._closing.wait(self.late_ms / 1000):
            return False
        sock.sendall(frame(self.framing, answer.response))
        self.answered += 1
        return True

    def _take_fault(self) -> Fault:
        fault = self.fault
        if fault in (Fault.DROP, Fault.LATE) and self.fault_times is not None:
            self.fault_times -= 1
            if self.fault_times <= 0:
                self.fault = Fault.NONE
        return fault


def run_switch_sim(simulator: SwitchSimulator, stop: threading.Event) -> None:
    """The ``rxhub switch-sim`` process: serve until stopped."""
    simulator.start()
    log.info("switch-sim listening on %s:%d (%s)", simulator.host, simulator.port, simulator.framing)
    try:
        stop.wait()
    finally:
        simulator.stop()
