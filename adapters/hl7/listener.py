"""The MLLP listener: the only HL7 code that touches sockets.

Each connection is served in order (HL7 senders wait for each ACK), connections run concurrently.  A
message handler that fails unexpectedly costs that message an AR, never the connection or the listener.

Limits before work: a connection over the total or per-address cap is closed as soon as it is accepted, and one
whose frame (or whatever bytes it sends between frames) is not complete within ``frame_timeout_s`` is closed, so
slow senders cannot hold the descriptors the others need; an idle connection lives ``idle_timeout_s``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
import time
from collections.abc import Awaitable, Callable

from adapters.hl7.mllp_framing import FrameTooLarge, MllpDecoder, frame
from hub.security.connection_budget import ConnectionBudget
from hub.security.principals import Peer
from hub.security.tls import subject_cn

log = logging.getLogger(__name__)

#: handles one payload from a peer, returns the ACK bytes (unframed) or None when no ACK is due
MessageHandler = Callable[[bytes, Peer], Awaitable[bytes | None]]
#: answer for a frame refused before parsing (over-size), from a peer
RefusalHandler = Callable[[FrameTooLarge, Peer], bytes]


class MllpListener:
    """An asyncio TCP (optionally TLS) server speaking MLLP."""

    def __init__(
        self,
        handler: MessageHandler,
        refuse: RefusalHandler,
        *,
        host: str,
        port: int,
        max_frame_bytes: int = 1_048_576,
        idle_timeout_s: float = 300.0,
        ssl_context: ssl.SSLContext | None = None,
        frame_timeout_s: float = 60.0,
        budget: ConnectionBudget | None = None,
    ) -> None:
        self._handler = handler
        self._refuse = refuse
        self._host = host
        self._port = port
        self._max = max_frame_bytes
        self._idle = idle_timeout_s
        self._ssl = ssl_context
        self._frame_timeout = frame_timeout_s
        self._budget = budget or ConnectionBudget(1024, 64)
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self.connections = 0

    @property
    def port(self) -> int:
        """The bound port (useful when started on port 0)."""
        assert self._server is not None and self._server.sockets
        return int(self._server.sockets[0].getsockname()[1])

    async def start(self) -> None:
        """Bind and start accepting."""
        self._server = await asyncio.start_server(
            self._serve,
            self._host,
            self._port,
            ssl=self._ssl,
            limit=65536,
            backlog=1024,
            ssl_handshake_timeout=min(60.0, self._frame_timeout) if self._ssl else None,
        )
        log.info("MLLP listening on %s:%s", self._host, self.port, extra={"event": "mllp.listening"})

    async def stop(self) -> None:
        """Stop accepting and close the listening socket."""
        if self._server is not None:
            self._server.close()
            for task in list(self._tasks):
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)
            await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = peer_of(writer)
        if not self._budget.admit(peer.address):
            if (count := self._budget.refused()) is not None:
                log.warning(
                    "MLLP connections refused at the connection cap: %d", count, extra={"event": "mllp.conn_cap"}
                )
            writer.close()
            return
        self.connections += 1
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        try:
            await self._converse(reader, writer, peer)
        except (TimeoutError, ConnectionError, ssl.SSLError) as exc:
            log.info("MLLP connection ended: %s", type(exc).__name__)
        except asyncio.CancelledError:  # the listener stops: the connection ends quietly, not as an error
            pass
        finally:
            self._budget.release(peer.address)
            self.connections -= 1
            if task is not None:
                self._tasks.discard(task)
            writer.close()
            with contextlib.suppress(ConnectionError, ssl.SSLError):
                await writer.wait_closed()

    async def _converse(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, peer: Peer) -> None:
        """Frames in, ACKs out, until the peer closes, idles out, or lets a frame outlast its deadline."""
        decoder = MllpDecoder(self._max)
        started: float | None = None  # when the bytes of the frame now arriving began
        while True:
            wait = self._idle if started is None else started + self._frame_timeout - time.monotonic()
            if wait <= 0:
                log.warning("MLLP frame not complete in time", extra={"event": "mllp.frame_timeout"})
                return
            data = await asyncio.wait_for(reader.read(65536), wait)
            if not data:
                return
            items = decoder.feed(data)
            if started is None:
                started = time.monotonic()
            for item in items:
                answer = await self._answer(item, peer)
                if answer is not None:
                    writer.write(frame(answer))
                    await writer.drain()
            if items:  # the next frame's clock starts once this one is answered
                started = time.monotonic() if decoder.mid_frame() else None

    async def _answer(self, item: bytes | FrameTooLarge, peer: Peer) -> bytes | None:
        if isinstance(item, FrameTooLarge):
            log.warning("refused an over-size MLLP frame", extra={"event": "mllp.frame_too_large"})
            return self._refuse(item, peer)
        try:
            return await self._handler(item, peer)
        except Exception:  # one message's bug must not end the connection; no ACK -> the sender resends
            log.exception("MLLP handler failed")
            return None


def peer_of(writer: asyncio.StreamWriter) -> Peer:
    """What the connection proved: the verified client certificate's subject CN and the peer's address."""
    address = writer.get_extra_info("peername")
    host = address[0] if isinstance(address, tuple) and address else None
    return Peer(cert_subject=subject_cn(writer.get_extra_info("peercert")), address=host)
