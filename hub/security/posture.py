"""Start-up refusals: plain TCP off loopback, guest credentials on a remote broker, secrets missing for TLS."""

from __future__ import annotations

from urllib.parse import urlsplit

from hub.errors import RxHubError
from hub.security.tls import is_loopback


class InsecureConfiguration(RxHubError):
    """The settings would expose patient data or a default password; the hub refuses to start."""


def check_door(name: str, host: str, *, tls: bool, allow_plaintext: bool) -> None:
    """Plain TCP only on loopback, unless explicitly allowed (e.g. behind a TLS-terminating proxy)."""
    if not tls and not is_loopback(host) and not allow_plaintext:
        raise InsecureConfiguration(
            f"{name} would listen on {host} without TLS; configure a certificate or set "
            f"RXHUB_ALLOW_PLAINTEXT=true for a TLS-terminating proxy in front"
        )


def check_broker_url(amqp_url: str, *, allow_plaintext: bool) -> None:
    """No guest/guest on a broker off this machine, and amqps:// there unless explicitly allowed.

    The error names the host only: the URL holds the password.
    """
    from hub.messaging.broker_nodes import nodes

    for node in nodes(amqp_url):  # each node of a cluster
        parts = urlsplit(node.url)
        host = parts.hostname or "localhost"
        if is_loopback(host):
            continue
        if (parts.username or "guest") == "guest" or (parts.password or "guest") == "guest":
            raise InsecureConfiguration(f"refusing the default guest credentials for the broker at {host}")
        if parts.scheme != "amqps" and not allow_plaintext:
            raise InsecureConfiguration(f"the broker at {host} must be reached over amqps://")


def check_audit_key(has_key: bool, hosts: tuple[str, ...]) -> None:
    """Doors off loopback need ``RXHUB_AUDIT_KEY``: without it a database writer can rewrite the audit trail."""
    exposed = [host for host in hosts if not is_loopback(host)]
    if not has_key and exposed:
        raise InsecureConfiguration(
            f"the doors would listen on {exposed[0]} without RXHUB_AUDIT_KEY: the audit trail could be rewritten "
            "by anyone who can write the database; `rxhub certs audit-key` makes a key"
        )
