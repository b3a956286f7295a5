"""How much of what a connection wrote has not reached its client yet: asyncio's buffer and the kernel's queue.

asyncio's buffer empties as soon as the kernel takes the bytes, and on a fast network (loopback above all) the
kernel takes megabytes: an answer can sit there long after the server thinks it sent it, while a slow client
reads it. The kernel's count (``SIOCOUTQ``, bytes not yet acknowledged) says when the client really has it.
"""

from __future__ import annotations

import asyncio
import fcntl
import struct
import termios

#: the ioctl that reads a TCP socket's unacknowledged bytes (Linux names it SIOCOUTQ too)
_OUTQ = getattr(termios, "TIOCOUTQ", None)


def unsent(transport: asyncio.BaseTransport) -> int:
    """Bytes written to ``transport`` that the client has not acknowledged (asyncio's buffer when the kernel's
    count cannot be read)."""
    pending = transport.get_write_buffer_size() if isinstance(transport, asyncio.WriteTransport) else 0
    sock = transport.get_extra_info("socket")
    if sock is None or _OUTQ is None:
        return pending
    try:
        queued = fcntl.ioctl(sock.fileno(), _OUTQ, b"\0\0\0\0")
    except OSError:  # closed meanwhile, or not a TCP socket
        return pending
    return pending + int(struct.unpack("i", queued)[0])
