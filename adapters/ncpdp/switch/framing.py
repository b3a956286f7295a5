"""How a D.0 transmission travels on a switch's TCP connection: STX/ETX with a length header, or a length prefix.

D.0 itself defines no transport (standards.md §4.1 notes only that 0x03 ETX may terminate a switch message),
so each switch's connection guide picks one of these and the routing file names it per switch:

* ``stx-etx``: ``STX (0x02)`` + payload length as 4 ASCII digits + payload + ``ETX (0x03)``
* ``length-prefix``: payload length as a 4-byte big-endian unsigned integer + payload
"""

from __future__ import annotations

import socket
import struct
from enum import StrEnum

from hub.errors import MessageContentError

STX, ETX = b"\x02", b"\x03"
#: the most a 4-digit length header can say; D.0 transmissions are far smaller
MAX_STX_PAYLOAD = 9999
MAX_PREFIX_PAYLOAD = 1 << 20


class Framing(StrEnum):
    """The framings a switch may ask for."""

    STX_ETX = "stx-etx"
    LENGTH_PREFIX = "length-prefix"


class ConnectionClosed(ConnectionError):
    """The peer closed the connection before a whole frame arrived."""


def frame(framing: Framing, payload: bytes) -> bytes:
    """The bytes that carry ``payload`` on the wire."""
    if framing is Framing.STX_ETX:
        if len(payload) > MAX_STX_PAYLOAD or ETX in payload:
            raise MessageContentError(f"a {len(payload)}-byte payload cannot travel in an STX/ETX frame")
        return STX + f"{len(payload):04d}".encode("ascii") + payload + ETX
    if len(payload) > MAX_PREFIX_PAYLOAD:
        raise MessageContentError(f"a {len(payload)}-byte payload is too long for a switch")
    return struct.pack(">I", len(payload)) + payload


def read_frame(sock: socket.socket, framing: Framing) -> bytes:
    """The next frame's payload; ConnectionClosed on a clean or early close, MessageContentError on a bad one."""
    if framing is Framing.STX_ETX:
        start = _exactly(sock, 5)
        if start[:1] != STX or not start[1:].isdigit():
            raise MessageContentError("switch frame does not start with STX and a 4-digit length")
        payload = _exactly(sock, int(start[1:]))
        if _exactly(sock, 1) != ETX:
            raise MessageContentError("switch frame does not end with ETX where its length says")
        return payload
    (length,) = struct.unpack(">I", _exactly(sock, 4))
    if length > MAX_PREFIX_PAYLOAD:
        raise MessageContentError(f"switch frame claims {length} bytes")
    return _exactly(sock, length)


def _exactly(sock: socket.socket, count: int) -> bytes:
    """``count`` bytes, however many reads that takes (one read may carry part of a frame)."""
    chunks: list[bytes] = []
    left = count
    while left:
        chunk = sock.recv(left)
        if not chunk:
            raise ConnectionClosed(f"connection closed with {left} of {count} bytes still to come")
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)
