"""Publishes committed outbox rows with confirms, then marks them sent.

A crash between publish and mark-sent republishes the row with the same message id (the CloudEvents id
for events, the command's id for commands): subscribers and workers dedupe on it.

Two ways in. The handlers of this process hand over the rows they just committed (``hand_over``): they
are published from memory and marked sent in batches, with no read of the table; re-reading every row a
moment after writing it was a third of a worker's CPU. The table is still polled, for what nobody holds in
memory: rows of a process that died, rows whose publish failed, rows of writers without a relay. With
``orphan_after_s`` the poll leaves alone rows younger than that, which another process's relay is
publishing from its memory. Rows leave in commit order; after a failed publish the rows of that batch leave
later, from the table, possibly after newer ones (subscribers order by the CloudEvents ``time``).

A row can reach the poll before its hand-over: with ``orphan_after_s`` 0, or when the handler's
transaction outlasted it (the row's ``created_at`` is its insert, not its commit). The relay remembers for a
while what its poll took, and drops such a late hand-over rather than publish the row a second time.

Commands (and delayed commands, which their delay queue dead-letters into the commands exchange) are signed
here, over the bytes published, with the key the relay has now (hub.security.command_signing): a row written
before a key rotation still leaves signed by a key the workers know.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Protocol

from hub.errors import InfrastructureError, PublishUnroutable
from hub.messaging.amqp_properties import raw_properties
from hub.messaging.async_publisher import OutgoingMessage
from hub.messaging.broker_failures import reconnect_level
from hub.messaging.topology import Topology
from hub.observability.metrics import EVENTS_PUBLISHED
from hub.persistence.outbox_store import OutboxRow, OutboxStore
from hub.security.command_signing import CommandKeys

log = logging.getLogger(__name__)

#: outbox targets whose rows are commands a worker will verify (the delay queues lead to the commands exchange)
SIGNED_TARGETS = frozenset({"commands", "delay"})


class BatchPublisher(Protocol):
    """hub.messaging.pipelined_publisher.PipelinedPublisher, or the blocking one (one at a time)."""

    def publish_each(self, messages: list[OutgoingMessage]) -> list[BaseException | None]:
        """Each message's outcome, None when confirmed."""

    def close(self) -> None:
        """Close the connection."""


class OutboxRelay:
    """Publishes what handlers hand over at once, polls the table for the rest, marks sent rows in batches."""

    def __init__(
        self,
        store: OutboxStore,
        publisher: BatchPublisher,
        topology: Topology,
        *,
        keys: CommandKeys,
        interval_s: float = 0.25,
        orphan_after_s: float = 0.0,
        mark_linger_s: float = 0.05,
        batch: int = 200,
    ) -> None:
        self._store = store
        self._publisher = publisher
        self._topology = topology
        self._keys = keys
        self._interval = interval_s
        self._orphan_after = timedelta(seconds=orphan_after_s)
        self._mark_linger = mark_linger_s
        self._batch = batch
        self._wake = threading.Event()
        self._lock = threading.Lock()
        self._handed: deque[OutboxRow] = deque()
        #: ids handed over and not yet marked sent: the poll must not publish them a second time
        self._held: set[str] = set()
        #: ids the poll took, oldest first, with when: a hand-over of one of them comes too late
        self._polled: dict[str, float] = {}
        self._polled_for = max(60.0, 4 * orphan_after_s)
        self._unmarked: list[str] = []
        self._unmarked_since = 0.0
        self._poll_due = 0.0
        self.published = 0

    def poke(self) -> None:
        """Poll the table now rather than at the next tick (for writers that do not hand rows over)."""
        self._poll_due = 0.0
        self._wake.set()

    def hand_over(self, rows: Sequence[OutboxRow]) -> None:
        """Rows a handler just committed: publish them from memory (their copy in the table is the fallback)."""
        if not rows:
            return
        with self._lock:
            rows = [row for row in rows if row.id not in self._polled]
            self._handed.extend(rows)
            self._held.update(row.id for row in rows)
        self._wake.set()

    def run(self, stop: threading.Event) -> None:
        """Loop until stopped; broker or database trouble only delays publishing."""
        backoff = self._interval
        while not stop.is_set():
            try:
                done = self.relay_handed()
                if time.monotonic() >= self._poll_due:
                    done += self.drain_once(self._batch)
                    self._poll_due = time.monotonic() + self._interval
                self._mark_sent(force=done == 0)
                backoff = self._interval
            except InfrastructureError as exc:
                log.log(reconnect_level(exc), "outbox relay: %s; will retry", exc)
                done = 0
                backoff = min(backoff * 2, 5.0)
            except Exception:  # the relay must outlive any single failure
                log.exception("outbox relay failed; will retry")
                done = 0
                backoff = min(backoff * 2, 5.0)
            if done == 0:
                self._wake.wait(self._mark_linger if self._unmarked else backoff)
                self._wake.clear()
        try:
            self.relay_handed()
            self._mark_sent(force=True)
        except Exception:  # left in the table: the next relay to start publishes them
            log.warning("outbox relay: stopping with rows unpublished or unmarked; they go out on next start")
        self._publisher.close()

    def relay_handed(self) -> int:
        """Publish the rows handed over so far (all in flight at once); returns how many were confirmed."""
        with self._lock:
            rows = [self._handed.popleft() for _ in range(min(len(self._handed), self._batch))]
        if not rows:
            return 0
        failure: BaseException | None = None
        try:
            results = self._publisher.publish_each([self._message(row) for row in rows])
        except BaseException:
            self._release(rows)  # the table still has them: the poll publishes them once they are orphans
            raise
        published: list[str] = []
        refused: list[tuple[OutboxRow, PublishUnroutable]] = []
        for row, result in zip(rows, results, strict=True):
            if result is None:
                published.append(row.id)
            elif isinstance(result, PublishUnroutable):
                refused.append((row, result))
            else:  # nacked, unconfirmed or the broker gone: the poll publishes it again, after a backoff
                failure = failure or result
                self._release([row])
        if published:
            if not self._unmarked:
                self._unmarked_since = time.monotonic()
            self._unmarked.extend(published)
        self.published += len(published)
        EVENTS_PUBLISHED.inc(len(published))
        # parked after the confirmed rows are booked, and released whatever happens: a database error here
        # once left every row of the batch held and unmarked for good (the poll skips held rows)
        try:
            for row, refusal in refused:
                log.error("outbox row %s (%s) parked: %s", row.id, row.routing_key, refusal)
                self._store.mark_failed(row.id, str(refusal))
        finally:
            self._release([row for row, _ in refused])
        if failure is not None:
            raise failure
        return len(published)

    def _mark_sent(self, *, force: bool) -> None:
        """Mark published rows sent, in one statement for everything published in the last few milliseconds;
        a crash before this republishes them (same message ids)."""
        if not self._unmarked:
            return
        if (
            not force
            and len(self._unmarked) < self._batch
            and time.monotonic() - self._unmarked_since < self._mark_linger
        ):
            return
        ids, self._unmarked = self._unmarked, []
        try:
            self._store.mark_published(ids)
        except BaseException:
            self._unmarked = ids + self._unmarked
            raise
        with self._lock:
            self._held.difference_update(ids)

    def _release(self, rows: Sequence[OutboxRow]) -> None:
        with self._lock:
            self._held.difference_update(row.id for row in rows)

    def drain_once(self, batch: int = 200) -> int:
        """Publish one batch polled from the table (all in flight at once); returns how many were published."""
        failure: BaseException | None = None
        cutoff = datetime.now(UTC) - self._orphan_after if self._orphan_after else None
        with self._store.claim(batch, created_before=cutoff) as (rows, record):
            with self._lock:
                rows = [row for row in rows if row.id not in self._held]
                self._remember_polled(row.id for row in rows)
            done: list[str] = []
            parked: dict[str, str] = {}
            try:
                # a claim republished from the table may have been superseded by a later transmission of its
                # fill since it was first published: kept from the payer and noted (hub.persistence.claims)
                stale = self._store.superseded_claims(rows)
                done.extend(stale)
                rows = [row for row in rows if row.id not in stale]
                results = self._publisher.publish_each([self._message(row) for row in rows]) if rows else []
                for row, result in zip(rows, results, strict=True):
                    if result is None:
                        done.append(row.id)
                    elif isinstance(result, PublishUnroutable):
                        # refused for good (nothing bound for it): park the row with its error rather than
                        # block every row behind it; a claim parked so is caught by its payer timeout
                        log.error("outbox row %s (%s) parked: %s", row.id, row.routing_key, result)
                        parked[row.id] = str(result)
                    else:
                        # nacked (a quorum queue between leaders), unconfirmed, or the broker gone mid-batch:
                        # passing trouble, so the row stays for a later poll, after the relay's backoff
                        failure = failure or result
            finally:
                record(done, parked)
        self.published += len(done)
        EVENTS_PUBLISHED.inc(len(done))
        if failure is not None:
            raise failure
        return len(done)

    def _remember_polled(self, ids: Iterable[str]) -> None:
        """Called under the lock. Forgets, oldest first, what was polled longer ago than any hand-over lags."""
        now = time.monotonic()
        for row_id in ids:
            self._polled.pop(row_id, None)  # polled again (its publish failed): it moves to the end
            self._polled[row_id] = now
        horizon = now - self._polled_for
        while self._polled:
            oldest = next(iter(self._polled))
            if self._polled[oldest] >= horizon:
                break
            del self._polled[oldest]

    def _message(self, row: OutboxRow) -> OutgoingMessage:
        exchange = {
            "events": self._topology.events_exchange,
            "commands": self._topology.commands_exchange,
            "payer": self._topology.payer_exchange,
            "delay": "",
        }[row.target]
        headers = dict(row.headers)
        reply_to = headers.pop("reply_to", None)
        if row.target in SIGNED_TARGETS:
            headers.update(self._keys.headers(row.body))
        props = raw_properties(
            row.id,
            content_type=row.content_type,
            message_type=row.message_type,
            correlation_id=row.correlation_id,
            headers=headers,
            reply_to=reply_to,
        )
        return OutgoingMessage(exchange, row.routing_key, row.body, props, mandatory=row.target != "events")
