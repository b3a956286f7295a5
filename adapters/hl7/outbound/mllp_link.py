"""One MLLP Release 1 connection to a destination: connect, send a frame, read frames until a deadline.

Transport only: it knows frames, not ACKs.  Reads wait in short slices so the caller's ``tick`` (AMQP
heartbeats, stop checks) runs while an ACK is awaited.
"""

from __future__ import annotations

import socket
import ssl
import time
from collections.abc import Callable
from contextlib import suppress

from adapters.hl7.mllp_framing import FrameTooLarge, MllpDecoder, frame
from hub.errors import TransientError

_SLICE_S = 0.25


class DestinationUnavailable(TransientError):
    """The destination refused or dropped the connection, or it broke mid-send: reconnect and resend."""


class MllpLink:
    """A blocking MLLP client socket with its own frame decoder; reconnect by ``close`` then ``open``."""

    def __init__(
        self,
        host: str,
        port: int,
        *,
        connect_timeout_s: float,
        max_frame_bytes: int,
        ssl_context: ssl.SSLContext | None = None,
        server_name: str | None = None,
    ) -> None:
        self.host, self.port = host, port
        self._ssl, self._server_name = ssl_context, server_name or host
        self._connect_timeout = connect_timeout_s
        self._max_frame = max_frame_bytes
        self._sock: socket.socket | None = None
        self._decoder = MllpDecoder(max_frame_bytes)
        self._frames: list[bytes] = []

    @property
    def is_open(self) -> bool:
        """Whether a connection is up (as far as we know until the next read or write)."""
        return self._sock is not None

    def open(self) -> None:
        """Connect, with a fresh decoder: bytes left from an old connection belong to old messages."""
        self.close()
        try:
            sock = socket.create_connection((self.host, self.port), timeout=self._connect_timeout)
            if self._ssl is not None:
                sock = self._ssl.wrap_socket(sock, server_hostname=self._server_name)
        except OSError as exc:  # refused, unreachable, or a TLS handshake that failed (ssl.SSLError is an OSError)
            raise DestinationUnavailable(f"cannot connect to {self.host}:{self.port}: {exc}") from exc
        sock.settimeout(_SLICE_S)
        self._sock = sock
        self._decoder = MllpDecoder(self._max_frame)
        self._frames = []

    def send(self, payload: bytes) -> None:
        """Write one framed message."""
        if self._sock is None:
            self.open()
        assert self._sock is not None
        try:
            self._sock.sendall(frame(payload))
        except OSError as exc:
            self.close()
            raise DestinationUnavailable(f"connection to {self.host}:{self.port} broke while sending") from exc

    def next_frame(self, deadline: float, tick: Callable[[], None] = lambda: None) -> bytes | None:
        """The next frame received, or None at ``deadline`` (time.monotonic); oversized frames are skipped."""
        while not self._frames:
            if time.monotonic() >= deadline:
                return None
            tick()
            self._receive()
        return self._frames.pop(0)

    def _receive(self) -> None:
        if self._sock is None:
            raise DestinationUnavailable("not connected")
        try:
            data = self._sock.recv(65536)
        except TimeoutError:
            return
        except OSError as exc:
            self.close()
            raise DestinationUnavailable(f"connection to {self.host}:{self.port} failed: {exc}") from exc
        if not data:
            self.close()
            raise DestinationUnavailable(f"{self.host}:{self.port} closed the connection")
        self._frames.extend(f for f in self._decoder.feed(data) if not isinstance(f, FrameTooLarge))

    def close(self) -> None:
        """Drop the connection (a late ACK on it can then never be mistaken for a new message's)."""
        sock, self._sock = self._sock, None
        if sock is not None:
            with suppress(OSError):
                sock.close()
