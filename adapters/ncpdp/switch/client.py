"""One claim's round trip to a switch over TCP (TLS when the route asks), told apart by what the hub may infer.

``Unreachable``: the claim never left (no connection), so another switch may carry it. ``NoAnswer``: the
claim was sent and nothing came back (connection dropped, timeout, a frame we cannot read): the payer may
have decided, so the answer is unknown and only the status-unknown path (reverse, then resubmit) may follow.
"""

from __future__ import annotations

import socket
import ssl

from adapters.ncpdp.switch.framing import frame, read_frame
from adapters.ncpdp.switch.routing import SwitchEndpoint
from hub.errors import MessageContentError, TransientError
from hub.security.tls import client_context


class Unreachable(TransientError):
    """No connection to the switch: nothing was sent."""


class NoAnswer(TransientError):
    """Sent, but no answer came: what the payer decided is unknown."""


def exchange(switch: SwitchEndpoint, payload: bytes) -> bytes:
    """Send one D.0 transmission and return the switch's answer bytes."""
    sock = _connect(switch)
    try:
        try:
            sock.sendall(frame(switch.framing, payload))
        except OSError as exc:  # part of the frame may have left: treat it as sent
            raise NoAnswer(f"switch {switch.name}: connection lost while sending ({exc})") from exc
        sock.settimeout(switch.answer_timeout_ms / 1000)
        try:
            return read_frame(sock, switch.framing)
        except (OSError, MessageContentError) as exc:
            raise NoAnswer(f"switch {switch.name}: no answer ({type(exc).__name__}: {exc})") from exc
    finally:
        sock.close()


def _connect(switch: SwitchEndpoint) -> socket.socket:
    try:
        raw = socket.create_connection((switch.host, switch.port), timeout=switch.connect_timeout_ms / 1000)
    except OSError as exc:
        raise Unreachable(f"switch {switch.name} at {switch.host}:{switch.port}: {exc}") from exc
    if not switch.tls:
        return raw
    context = client_context(switch.ca_file, cert=switch.client_cert, key=switch.client_key)
    try:
        return context.wrap_socket(raw, server_hostname=switch.host)
    except (OSError, ssl.SSLError) as exc:  # the handshake happens before any claim byte is sent
        raw.close()
        raise Unreachable(f"switch {switch.name}: TLS handshake failed ({exc})") from exc
