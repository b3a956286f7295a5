"""A small blocking MLLP client: ``rxhub send``, the demo, tests and the benchmark use it."""

from __future__ import annotations

import socket
import ssl

START, END = b"\x0b", b"\x1c\r"


class MllpClient:
    """Sends one message at a time and waits for its ACK, like an EHR interface does."""

    def __init__(
        self, host: str, port: int, *, timeout_s: float = 30.0, ssl_context: ssl.SSLContext | None = None
    ) -> None:
        raw = socket.create_connection((host, port), timeout=timeout_s)
        self.sock: socket.socket = ssl_context.wrap_socket(raw, server_hostname=host) if ssl_context else raw
        self._buf = b""

    def send(self, message: bytes) -> bytes:
        """Send one framed message and return the payload of the next ACK frame."""
        self.sock.sendall(START + message + END)
        return self.read_frame()

    def read_frame(self) -> bytes:
        """Block until one whole frame is read."""
        while END not in self._buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("connection closed before a complete ACK")
            self._buf += chunk
        frame, self._buf = self._buf.split(END, 1)
        return frame[frame.find(START) + 1 :]

    def close(self) -> None:
        """Close the socket."""
        self.sock.close()

    def __enter__(self) -> MllpClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


def split_messages(data: bytes) -> list[bytes]:
    """Split a file of messages at each segment that starts with MSH (bytes otherwise kept); an HL7 batch
    (opening with FHS or BHS) stays whole, one frame, answered by one response batch."""
    if data.removeprefix(b"\xef\xbb\xbf").lstrip()[:3] in (b"FHS", b"BHS"):
        return [data]
    starts = [0]
    for sep in (b"\rMSH|", b"\nMSH|"):
        pos = data.find(sep)
        while pos != -1:
            starts.append(pos + 1)
            pos = data.find(sep, pos + 1)
    starts = sorted(set(starts))
    bounds = [*starts[1:], len(data)]
    return [data[a:b].rstrip(b"\r\n") + b"\r" for a, b in zip(starts, bounds, strict=True) if data[a:b].strip()]
