"""Systems outside the pharmacy that the hub POSTs to (a SCRIPT network, an EHR's FHIR server): where, how it
proves who it is, and how patiently it retries.

Endpoints are listed in a JSON file (``{"endpoints": [...]}``) the settings name. Secrets are never written in
it: a basic-auth password or a bearer token is read from the file ``password_file``/``token_file`` names (a
Docker or Kubernetes secret), at each request, so a rotated secret is picked up without a restart.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Literal, TypeVar

import httpx
from pydantic import Field, ValidationError, model_validator

from hub.domain.order_parts import Frozen
from hub.errors import ConfigurationError
from hub.security.tls import client_context


class EndpointConfigError(ConfigurationError):
    """An endpoints file is missing, unreadable or invalid: the hub must not start half-configured."""


class HttpsEndpoint(Frozen):
    """One receiver: its URL, the TLS it wants, how we authenticate, and how patient to be with it."""

    #: short name for logs, metrics (``<kind>:<name>``) and dead letters
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$")
    url: str = Field(pattern=r"^https?://")
    #: CA bundle for the receiver's certificate; absent: the system store
    ca_file: Path | None = None
    #: our client certificate and key, for receivers that require mutual TLS
    cert_file: Path | None = None
    key_file: Path | None = None
    auth: Literal["none", "basic", "bearer"] = "none"
    username: str | None = None
    #: file holding the basic-auth password
    password_file: Path | None = None
    #: file holding the bearer token
    token_file: Path | None = None
    timeout_s: float = Field(default=30.0, gt=0)
    #: attempts per message before it is dead-lettered (replayable) while the receiver stays unreachable
    max_attempts: int = Field(default=8, ge=1)
    backoff_initial_s: float = Field(default=1.0, gt=0)
    backoff_max_s: float = Field(default=60.0, gt=0)

    @model_validator(mode="after")
    def _consistent(self) -> HttpsEndpoint:
        if self.backoff_initial_s > self.backoff_max_s:
            raise ValueError("backoff_initial_s must not exceed backoff_max_s")
        if (self.cert_file is None) != (self.key_file is None):
            raise ValueError("cert_file and key_file go together")
        if self.auth == "basic" and (self.username is None or self.password_file is None):
            raise ValueError("basic auth needs username and password_file")
        if self.auth == "bearer" and self.token_file is None:
            raise ValueError("bearer auth needs token_file")
        if self.url.startswith("http://") and self.auth != "none":
            raise ValueError("credentials are only sent over https")
        return self

    def authorization(self) -> str | None:
        """The Authorization header value, read from its secret file now."""
        if self.auth == "basic":
            assert self.username is not None and self.password_file is not None
            pair = f"{self.username}:{_secret(self.password_file)}".encode()
            return "Basic " + base64.b64encode(pair).decode("ascii")
        if self.auth == "bearer":
            assert self.token_file is not None
            return f"Bearer {_secret(self.token_file)}"
        return None

    def client(self) -> httpx.Client:
        """A kept-alive client verifying the receiver (and presenting our certificate when configured)."""
        verify = (
            client_context(self.ca_file, cert=self.cert_file, key=self.key_file)
            if self.url.startswith("https://")
            else False
        )
        return httpx.Client(verify=verify, timeout=self.timeout_s)


def _secret(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8").rstrip("\r\n")
    except OSError as exc:
        raise EndpointConfigError(f"cannot read endpoint secret {path}: {exc.strerror}") from None


E = TypeVar("E", bound=HttpsEndpoint)


def load_endpoints(path: Path | str, model: type[E]) -> tuple[E, ...]:
    """Read and check an endpoints file; any problem is one EndpointConfigError naming it."""
    try:
        raw = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise EndpointConfigError(f"cannot read endpoints from {path}: {exc}") from exc
    if not isinstance(raw, dict) or not isinstance(raw.get("endpoints"), list) or not raw["endpoints"]:
        raise EndpointConfigError(f"{path}: expected an object with a non-empty 'endpoints' list")
    try:
        found = tuple(model.model_validate(item) for item in raw["endpoints"])
    except ValidationError as exc:
        raise EndpointConfigError(f"{path}: invalid endpoint: {exc}") from exc
    names = [e.name for e in found]
    if len(set(names)) != len(names):
        raise EndpointConfigError(f"{path}: endpoint names must be unique")
    for endpoint in found:
        endpoint.authorization()  # a secret file that cannot be read stops the start, not the first delivery
    return found
