"""A confirming publisher for threads that publish batches: the whole batch in flight, confirms awaited together.

The outbox relay published one row per broker round trip (about a millisecond each on loopback), and
every order leaves a dozen rows across its steps: at a hundred orders a second the relay alone would need
more than a second per second.  This runs the asyncio publisher on a loop of its own thread (so its
heartbeats and reconnects go on between batches) and hands it whole batches.
"""

from __future__ import annotations

import asyncio
import ssl
import threading
from concurrent.futures import TimeoutError as FutureTimeout

from hub.errors import PublishNotConfirmed
from hub.messaging.async_publisher import AsyncConfirmingPublisher, OutgoingMessage


class PipelinedPublisher:
    """``publish_each`` from any thread; one connection, reconnecting by itself."""

    def __init__(
        self, amqp_url: str, *, confirm_timeout_s: float = 10.0, ssl_context: ssl.SSLContext | None = None
    ) -> None:
        self._url, self._timeout, self._ssl = amqp_url, confirm_timeout_s, ssl_context
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._publisher: AsyncConfirmingPublisher | None = None
        self._lock = threading.Lock()

    def publish_each(self, messages: list[OutgoingMessage]) -> list[BaseException | None]:
        """Each message's outcome (None: confirmed); BrokerUnavailable or PublishNotConfirmed for the batch."""
        if not messages:
            return []
        loop = self._running_loop()
        future = asyncio.run_coroutine_threadsafe(self._publish_each(messages), loop)
        try:
            return future.result(self._timeout + 10)
        except FutureTimeout as exc:
            future.cancel()
            raise PublishNotConfirmed(f"no broker confirm within {self._timeout}s") from exc

    def close(self) -> None:
        """Close the connection and end the loop's thread."""
        with self._lock:
            loop, thread, self._loop, self._thread = self._loop, self._thread, None, None
        if loop is None or thread is None:
            return
        publisher = self._publisher
        if publisher is not None:
            asyncio.run_coroutine_threadsafe(publisher.close(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()

    async def _publish_each(self, messages: list[OutgoingMessage]) -> list[BaseException | None]:
        if self._publisher is None:
            publisher = AsyncConfirmingPublisher(self._url, confirm_timeout_s=self._timeout, ssl_context=self._ssl)
            await publisher.start()  # BrokerUnavailable when the broker cannot be reached: the relay backs off
            self._publisher = publisher
        return await self._publisher.publish_each(messages)

    def _running_loop(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None:
                loop = asyncio.new_event_loop()
                thread = threading.Thread(target=loop.run_forever, name="outbox-publisher", daemon=True)
                thread.start()
                self._loop, self._thread = loop, thread
            return self._loop
