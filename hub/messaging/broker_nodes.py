"""The broker's nodes: ``RXHUB_AMQP_URL`` names one or several, and every connection tries them in shuffled order.

A process tied to one node answered errors for as long as that node was down while the cluster's other nodes
held every queue; one that started while its node was down exited.  Every connection the hub opens is built
here, so each one (doors, workers, relays, senders, payer link, CLI) lives while any node does.

The setting is one full URL, or several full URLs separated by commas or whitespace (a comma in a password
is written ``%2C``).  The comma-host form ``amqp://u:p@h1,h2/v`` and URLs naming different vhosts, schemes
or credentials are refused at start-up; no message here ever holds the password.
"""

from __future__ import annotations

import logging
import random
import re
import ssl
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

import pika

#: what separates the nodes' URLs in the setting
SEPARATOR = re.compile(r"[,\s]+")
EXAMPLE = "amqp://user:password@node1:5672/vhost,amqp://user:password@node2:5672/vhost"
#: pika's own loggers that report each failed connection attempt in several ERROR lines (with a traceback);
#: :mod:`hub.messaging.broker_failures` reports each node's failures in one rate-limited line instead
_CONNECT_LOGGERS = (
    "pika.adapters.utils.connection_workflow",
    "pika.adapters.utils.io_services_utils",
    "pika.adapters.blocking_connection",
    "pika.adapters.base_connection",
)


@dataclass(frozen=True)
class BrokerNode:
    """One node's URL and the label that names it in logs and metrics (host:port, never the password)."""

    url: str
    label: str


def nodes(spec: str) -> list[BrokerNode]:
    """The nodes ``spec`` names, in the order given; ValueError (without the URL) when it is ambiguous."""
    pieces = [piece for piece in SEPARATOR.split(spec.strip()) if piece]
    if not pieces:
        raise ValueError("no broker URL given")
    found = [_node(piece, index, len(pieces)) for index, piece in enumerate(pieces, start=1)]
    parts = [urlsplit(node.url) for node in found]
    if len({p.scheme for p in parts}) > 1:
        raise ValueError("the broker URLs mix amqp:// and amqps://; every node must be reached the same way")
    if len({_vhost(p.path) for p in parts}) > 1:
        raise ValueError("the broker URLs name different vhosts; the nodes of one cluster share the hub's vhost")
    if len({(p.username, p.password) for p in parts}) > 1:
        raise ValueError("the broker URLs give different credentials; the nodes of one cluster share the hub's user")
    if len({node.label for node in found}) < len(found):
        raise ValueError("a broker node is listed twice")
    return found


def vhost(spec: str) -> str:
    """The vhost every node of ``spec`` serves the hub on."""
    return _vhost(urlsplit(nodes(spec)[0].url).path)


def parameters(
    spec: str,
    *,
    ssl_context: ssl.SSLContext | None = None,
    heartbeat: int = 30,
    blocked_connection_timeout: float | None = None,
) -> list[tuple[BrokerNode, pika.URLParameters]]:
    """Connection parameters for every node, shuffled: each connection (and reconnection) spreads the load and
    does not wait on the same dead node first every time."""
    quiet_pika_connect_logs()
    chosen = nodes(spec)
    random.shuffle(chosen)
    result = []
    for node in chosen:
        params = pika.URLParameters(node.url)
        if ssl_context is not None:  # amqps:// with our own CA (hub.security.tls.client_context)
            params.ssl_options = pika.SSLOptions(ssl_context, server_hostname=params.host)
        params.heartbeat = heartbeat
        if blocked_connection_timeout is not None:
            params.blocked_connection_timeout = blocked_connection_timeout
        result.append((node, params))
    return result


def quiet_pika_connect_logs() -> None:
    """Keep pika's per-attempt ERROR lines out of the log (a dead node made a dozen a second per process)."""
    for name in _CONNECT_LOGGERS:
        logging.getLogger(name).setLevel(logging.CRITICAL)


def _node(piece: str, index: int, count: int) -> BrokerNode:
    where = f"broker URL {index} of {count}" if count > 1 else "the broker URL"
    hint = f"; give full URLs separated by commas, e.g. {EXAMPLE} (write a comma in a password as %2C)"
    parts = urlsplit(piece)
    if parts.scheme not in ("amqp", "amqps") or "@" in parts.path:
        raise ValueError(f"{where} is not a full amqp:// or amqps:// URL{hint}")
    try:
        host, port = parts.hostname, parts.port
        pika.URLParameters(piece)
    except ValueError:
        raise ValueError(f"{where} has a host or port that cannot be read{hint}") from None
    if not host:
        raise ValueError(f"{where} names no host{hint}")
    default_port = 5671 if parts.scheme == "amqps" else 5672
    return BrokerNode(piece, f"{host}:{port or default_port}")


def _vhost(path: str) -> str:
    return unquote(path[1:]) if len(path) > 1 else "/"
