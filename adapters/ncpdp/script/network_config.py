"""SCRIPT network endpoints: where outbound SCRIPT (RxRenewalRequest, CancelRxResponse, Error, Status) is POSTed.

The file (path in ``RXHUB_SCRIPT_NETWORK``) is JSON: ``{"endpoints": [{...}, ...]}``, one object per
:class:`ScriptEndpoint`; ``hub/data/script-network.example.json`` shows every field. A message goes to the
first endpoint whose ``addresses`` hold its recipient (``D:<SPI>``), or that lists none.
"""

from __future__ import annotations

from pathlib import Path

from hub.messaging.https_endpoints import HttpsEndpoint, load_endpoints


class ScriptEndpoint(HttpsEndpoint):
    """A SCRIPT network endpoint (TLS, credentials and retries as for any HTTPS receiver)."""

    #: recipients (``qualifier:value`` as the responder addresses them) served here; empty: every recipient
    addresses: tuple[str, ...] = ()

    def serves(self, recipient: str) -> bool:
        """Whether a message for ``recipient`` goes to this endpoint."""
        return not self.addresses or recipient in self.addresses


def endpoint_for(endpoints: tuple[ScriptEndpoint, ...], recipient: str) -> ScriptEndpoint | None:
    """The first endpoint serving ``recipient``."""
    return next((e for e in endpoints if e.serves(recipient)), None)


def load_script_network(path: Path | str) -> tuple[ScriptEndpoint, ...]:
    """Read and check the endpoints file (``EndpointConfigError`` naming any problem)."""
    return load_endpoints(path, ScriptEndpoint)
