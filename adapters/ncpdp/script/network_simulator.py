"""A local SCRIPT network for tests and trying the connector: HTTP(S), answers Status, Error or Verify.

It reads each POST as SCRIPT XML (the hub's own reader), checks the transaction is one a pharmacy sends a
prescriber, the credentials and (over TLS) the client certificate, and answers per its behaviour: the next
scripted answer if any, else the default. Answers are tokens: ``status:010``, ``status:000``, ``verify``,
``error:<code>:<description>``, ``http:<status>``. Everything received is recorded, duplicates included.

    python -m adapters.ncpdp.script.network_simulator --port 8443 --cert s.pem --key s.key --client-ca ca.pem
"""

from __future__ import annotations

import argparse
import threading
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from adapters.ncpdp.script.answers import error_response, status_response
from adapters.ncpdp.script.message import ScriptHeader, read_message
from adapters.ncpdp.script.xml_writer import add, answer_routing, new_message, serialize, write_header
from hub.errors import InboundMessageError
from hub.security.tls import server_context, subject_cn

#: what a pharmacy sends a prescriber through the network
PHARMACY_KINDS = frozenset({"CancelRxResponse", "RxRenewalRequest", "RxChangeRequest", "Error", "Status"})


@dataclass(frozen=True)
class Received:
    """One POST the network took in."""

    message_id: str
    kind: str
    to: str | None
    body: bytes
    authorization: str | None
    client_cn: str | None
    answer: str


@dataclass
class NetworkBehaviour:
    """How the simulator answers: scripted answers first, then ``default``; who may post."""

    default: str = "status:010"
    scripted: deque[str] = field(default_factory=deque)
    #: the Authorization header every POST must carry; None: any
    authorization: str | None = None


class ScriptNetworkSimulator:
    """A ThreadingHTTPServer on 127.0.0.1 speaking the network side of SCRIPT transport."""

    def __init__(
        self,
        port: int = 0,
        *,
        behaviour: NetworkBehaviour | None = None,
        cert: Path | None = None,
        key: Path | None = None,
        client_ca: Path | None = None,
    ) -> None:
        self.behaviour = behaviour or NetworkBehaviour()
        self.received: list[Received] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", port), _handler(self))
        self._server.daemon_threads = True
        if cert is not None and key is not None:
            context = server_context(cert, key, client_ca=client_ca, require_client_cert=client_ca is not None)
            self._server.socket = context.wrap_socket(self._server.socket, server_side=True)
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        """The port it listens on."""
        return int(self._server.server_address[1])

    def start(self) -> ScriptNetworkSimulator:
        """Serve from a daemon thread."""
        self._thread = threading.Thread(target=self._server.serve_forever, name="script-network", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the socket."""
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join()

    def answer(self, body: bytes, authorization: str | None, client_cn: str | None) -> tuple[int, bytes]:
        """The HTTP status and body for one POST, recorded."""
        behaviour = self.behaviour
        if behaviour.authorization is not None and authorization != behaviour.authorization:
            return 401, b"credentials refused"
        try:
            request = read_message(body)
        except InboundMessageError as exc:
            return 200, error_response(None, "900", None, f"unreadable: {exc}"[:70], message_id=_id(), now=_now())
        with self._lock:
            token = behaviour.scripted.popleft() if behaviour.scripted else behaviour.default
            if request.kind not in PHARMACY_KINDS:
                token = f"error:900:{request.kind} is not sent by a pharmacy"
            self.received.append(
                Received(
                    request.header.message_id, request.kind, request.header.to, body, authorization, client_cn, token
                )
            )
        return _answer_for(token, request.header)

    def delivered(self, kind: str | None = None) -> list[Received]:
        """What was received (of ``kind``) and answered with a Status or Verify."""
        with self._lock:
            return [
                r
                for r in self.received
                if (kind is None or r.kind == kind) and r.answer.split(":")[0] in ("status", "verify")
            ]


def _answer_for(token: str, request: ScriptHeader) -> tuple[int, bytes]:
    kind, _, rest = token.partition(":")
    if kind == "http":
        return int(rest), b"network unavailable"
    if kind == "status":
        return 200, status_response(request, rest or "010", message_id=_id(), now=_now())
    if kind == "verify":
        return 200, _verify(request)
    code, _, description = rest.partition(":")
    return 200, error_response(request, code or "900", None, description or "rejected", message_id=_id(), now=_now())


def _verify(request: ScriptHeader) -> bytes:
    root = new_message(request)
    write_header(
        root,
        answer_routing(request),
        message_id=_id(),
        now=_now(),
        relates_to=request.message_id,
        version=request.version,
    )
    status = add(add(add(root, "Body"), "Verify"), "VerifyStatus")
    add(status, "Code", "010")
    add(status, "Description", "delivered to the prescriber")
    return serialize(root)


def _now() -> datetime:
    return datetime.now(UTC)


_counter = iter(range(1, 1 << 62))


def _id() -> str:
    return f"NET{next(_counter):08d}"


def _handler(simulator: ScriptNetworkSimulator) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            peer = self.connection.getpeercert() if hasattr(self.connection, "getpeercert") else None
            status, answer = simulator.answer(body, self.headers.get("Authorization"), subject_cn(peer))
            self.send_response(status)
            self.send_header("Content-Type", "application/xml")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, format: str, *args: object) -> None:
            """Quiet: the test or the operator reads ``received``."""

    return Handler


def main() -> None:
    """Run a simulator in the foreground."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8443)
    parser.add_argument("--cert", type=Path)
    parser.add_argument("--key", type=Path)
    parser.add_argument("--client-ca", type=Path)
    parser.add_argument("--answer", default="status:010", help="default answer token")
    args = parser.parse_args()
    simulator = ScriptNetworkSimulator(
        args.port,
        behaviour=NetworkBehaviour(default=args.answer),
        cert=args.cert,
        key=args.key,
        client_ca=args.client_ca,
    )
    print(f"SCRIPT network simulator on port {simulator.port}, answering {args.answer}")
    simulator.start()
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        simulator.stop()


if __name__ == "__main__":
    main()
