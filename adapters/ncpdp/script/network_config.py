"""SCRIPT network endpoints: where outbound SCRIPT (RxRenewalRequest, CancelRxResponse, Error, Status) is POSTed.

The file (path in ``RXHUB_SCRIPT_NETWORK``) is JSON: ``{"endpoints": [{...}, ...]}``, one object per
:class:`ScriptEndpoint`; ``hub/data/script-network.example.json`` shows every field. Secrets (a basic-auth
password, a bearer token) are read from the files ``password_file``/``token_file`` name, never written in it.
A message goes to the first endpoint whose ``addresses`` hold its recipient (``D:<SPI>``), or that lists none.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationError, model_validator

from hub.domain.order_parts import Frozen
from hub.errors import ConfigurationError


class ScriptNetworkConfigError(ConfigurationError):
    """The SCRIPT network file is missing, unreadable or invalid: the hub must not start half-configured."""


class ScriptEndpoint(Frozen):
    """One network endpoint: its URL, the TLS it wants, how we authenticate, and how patient to be with it."""

    #: short name for logs, metrics (``script:<name>``) and dead letters
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$")
    url: str = Field(pattern=r"^https?://")
    #: recipients (``qualifier:value`` as the responder addresses them) served here; empty: every recipient
    addresses: tuple[str, ...] = ()
    #: CA bundle for the network's certificate; absent: the system store
    ca_file: Path | None = None
    #: our client certificate and key, for networks that require mutual TLS
    cert_file: Path | None = None
    key_file: Path | None = None
    auth: Literal["none", "basic", "bearer"] = "none"
    username: str | None = None
    #: file holding the basic-auth password (a Docker/Kubernetes secret)
    password_file: Path | None = None
    #: file holding the bearer token
    token_file: Path | None = None
    timeout_s: float = Field(default=30.0, gt=0)
    #: attempts per message before it is dead-lettered (replayable) when the network stays unreachable
    max_attempts: int = Field(default=8, ge=1)
    backoff_initial_s: float = Field(default=1.0, gt=0)
    backoff_max_s: float = Field(default=60.0, gt=0)

    @model_validator(mode="after")
    def _consistent(self) -> ScriptEndpoint:
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

    def serves(self, recipient: str) -> bool:
        """Whether a message for ``recipient`` goes to this endpoint."""
        return not self.addresses or recipient in self.addresses

    def authorization(self) -> str | None:
        """The Authorization header value, read from its secret file now (so a rotated secret is picked up)."""
        if self.auth == "basic":
            assert self.username is not None and self.password_file is not None
            pair = f"{self.username}:{_secret(self.password_file)}".encode()
            return "Basic " + base64.b64encode(pair).decode("ascii")
        if self.auth == "bearer":
            assert self.token_file is not None
            return f"Bearer {_secret(self.token_file)}"
        return None


def _secret(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8").rstrip("\r\n")
    except OSError as exc:
        raise ScriptNetworkConfigError(f"cannot read SCRIPT network secret {path}: {exc.strerror}") from None


def endpoint_for(endpoints: tuple[ScriptEndpoint, ...], recipient: str) -> ScriptEndpoint | None:
    """The first endpoint serving ``recipient``."""
    return next((e for e in endpoints if e.serves(recipient)), None)


def load_script_network(path: Path | str) -> tuple[ScriptEndpoint, ...]:
    """Read and check the endpoints file; any problem is one ScriptNetworkConfigError naming it."""
    try:
        raw = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ScriptNetworkConfigError(f"cannot read SCRIPT network endpoints from {path}: {exc}") from exc
    if not isinstance(raw, dict) or not isinstance(raw.get("endpoints"), list) or not raw["endpoints"]:
        raise ScriptNetworkConfigError(f"{path}: expected an object with a non-empty 'endpoints' list")
    try:
        found = tuple(ScriptEndpoint.model_validate(item) for item in raw["endpoints"])
    except ValidationError as exc:
        raise ScriptNetworkConfigError(f"{path}: invalid endpoint: {exc}") from exc
    names = [e.name for e in found]
    if len(set(names)) != len(names):
        raise ScriptNetworkConfigError(f"{path}: endpoint names must be unique")
    for endpoint in found:
        endpoint.authorization()  # a secret file that cannot be read stops the start, not the first delivery
    return found
