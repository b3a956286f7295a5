"""An EHR's FHIR server, outside the pharmacy: takes Tasks over HTTPS (client certificate, bearer token).

Every Task POSTed is checked with Medplum's R4 validator; it answers 201 with a Location, or what the test
scripts (``http:<status>`` with an OperationOutcome). A conditional create (If-None-Exist) for an identifier
it already holds answers 200 with the existing Task, as FHIR servers do.
"""

from __future__ import annotations

import json
import threading
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from hub.security.tls import server_context, subject_cn
from tests.support.fhir_validator import FhirValidator


class EhrFhirServer:
    """Holds the Tasks it created, by the If-None-Exist identifier."""

    def __init__(self, validator: FhirValidator, *, cert: Path, key: Path, client_ca: Path, token: str) -> None:
        self.validator, self.token = validator, token
        self.tasks: dict[str, dict[str, Any]] = {}
        self.posts: list[tuple[str | None, str]] = []
        self.scripted: deque[int] = deque()
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self.server.daemon_threads = True
        context = server_context(cert, key, client_ca=client_ca, require_client_cert=True)
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def base(self) -> str:
        return f"https://localhost:{self.server.server_address[1]}/fhir"

    def __enter__(self) -> EhrFhirServer:
        self.thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def answer(self, path: str, headers: Any, body: bytes, client_cn: str | None) -> tuple[int, dict[str, Any]]:
        if headers.get("Authorization") != f"Bearer {self.token}":
            return 401, _outcome("security", "bearer token refused")
        if path != "/fhir/Task":
            return 404, _outcome("not-found", path)
        task = json.loads(body)
        with self.lock:
            self.posts.append((client_cn, headers.get("If-None-Exist", "")))
            if self.scripted:
                status = self.scripted.popleft()
                return status, _outcome("processing", f"scripted {status}: Prescriber not in this practice")
            errors = self.validator.errors(task)
            if errors:
                return 422, _outcome("invalid", "; ".join(str(e) for e in errors))
            condition = headers.get("If-None-Exist", "")
            if condition in self.tasks:
                return 200, self.tasks[condition]
            task["id"] = f"task-{len(self.tasks) + 1}"
            self.tasks[condition] = task
            return 201, task


def _outcome(code: str, text: str) -> dict[str, Any]:
    return {"resourceType": "OperationOutcome", "issue": [{"severity": "error", "code": code, "diagnostics": text}]}


def _handler(ehr: EhrFhirServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            peer = self.connection.getpeercert() if hasattr(self.connection, "getpeercert") else None
            status, resource = ehr.answer(self.path, self.headers, body, subject_cn(peer))
            data = json.dumps(resource).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/fhir+json")
            if status == 201:
                self.send_header("Location", f"{ehr.base}/Task/{resource['id']}/_history/1")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: object) -> None:
            """Quiet."""

    return Handler
