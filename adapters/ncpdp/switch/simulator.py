"""A simulated switch (``rxhub switch-sim``): the connector's wire format over real TCP (TLS optional), each
claim handed in-process to the payer simulator's adjudicator.

Fault modes, switchable while running (``set_fault``; from outside the process through the control file of
``sim_control.py``): ``drop`` (the payer decides, then the connection is closed without an answer: the case
where the payer may have paid), ``late`` (the answer comes after ``late_ms``, when the connector has given
up), ``down`` (nothing listens: connections are refused, so the failover switch is used). Several listeners
(a primary and a failover switch) may share one payer, whose memory may outlive the process
(``payer_journal.py``).
"""

from __future__ import annotations

import logging
import socket
import socketserver
import ssl
import threading
from collections.abc import Sequence
from enum import StrEnum
from typing import Protocol

from adapters.ncpdp.payer.config import PayerConfig
from adapters.ncpdp.switch.framing import ConnectionClosed, Framing, frame, read_frame
from adapters.ncpdp.switch.payer_journal import LockedPayer, Payer
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
        payer: Payer | None = None,
        name: str = "switch-sim",
    ) -> None:
        self.host, self.port, self.framing, self.tls, self.name = host, port, framing, tls, name
        self.fault, self.late_ms = fault, late_ms
        #: the drop or late fault hits this many claims, then the switch behaves (None: every claim)
        self.fault_times = fault_times
        #: several switches may share one payer (a primary and a failover in front of the same plan)
        self._payer: Payer = payer or LockedPayer(config)
        self._fault_lock = threading.Lock()
        self._server: socketserver.ThreadingTCPServer | None = None
        self._thread: threading.Thread | None = None
        self._closing = threading.Event()
        #: claims the payer adjudicated, answers written back, answers held back by the late fault and
        #: connections dropped by the drop fault (tests and the chaos report read them)
        self.adjudicated = 0
        self.answered = 0
        self.late_answers = 0
        self.dropped = 0

    def set_fault(self, fault: Fault, *, times: int | None = None, late_ms: int | None = None) -> None:
        """Misbehave from the next claim on (``down`` stops listening; any other fault listens again)."""
        if fault is Fault.DOWN:
            if self.fault is not Fault.DOWN:
                self.go_down()
            return
        if self.fault is Fault.DOWN:
            self.come_up()
        with self._fault_lock:
            self.fault, self.fault_times = fault, times
            self.late_ms = late_ms if late_ms is not None else self.late_ms

    @property
    def listening(self) -> bool:
        """True while the switch accepts connections."""
        return self._server is not None

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
        fault = self._take_fault()
        answer = self._payer.answer(request, switch=self.name, fault=fault.value)
        self.adjudicated += 1
        log.info("switch-sim %s: %s (fault %s)", self.name, answer.summary, fault)
        if fault is Fault.DROP or answer.response is None:
            self.dropped += fault is Fault.DROP
            return False
        if fault is Fault.LATE:
            self.late_answers += 1
            if self._closing.wait(self.late_ms / 1000):
                return False
        sock.sendall(frame(self.framing, answer.response))
        self.answered += 1
        return True

    def _take_fault(self) -> Fault:
        with self._fault_lock:
            fault = self.fault
            if fault in (Fault.DROP, Fault.LATE) and self.fault_times is not None:
                self.fault_times -= 1
                if self.fault_times <= 0:
                    self.fault, self.fault_times = Fault.NONE, None
            return fault


class Poller(Protocol):
    """Something to look at a few times a second while serving (the run-time fault knob)."""

    def poll(self) -> None:
        """Check and apply."""
        ...


def run_switch_sim(
    simulators: SwitchSimulator | Sequence[SwitchSimulator], stop: threading.Event, *, control: Poller | None = None
) -> None:
    """The ``rxhub switch-sim`` process: serve every listener until stopped, polling the control knob."""
    serving = [simulators] if isinstance(simulators, SwitchSimulator) else list(simulators)
    for simulator in serving:
        simulator.start()
        where = f"{simulator.host}:{simulator.port}"
        log.info("switch-sim %s listening on %s (%s)", simulator.name, where, simulator.framing)
    try:
        while not stop.wait(0.1 if control is not None else None):
            if control is not None:
                control.poll()
    finally:
        for simulator in serving:
            simulator.stop()
