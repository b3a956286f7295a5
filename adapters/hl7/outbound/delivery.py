"""Delivering one message until the destination settles it: exactly one accepted copy, a refusal, or giving up.

* AA/CA with MSA-2 = our MSH-10: delivered.
* AE/CE: refused for its content (table 0008: fix and resend); resending the same bytes cannot help, so the
  caller dead-letters it at once with the receiver's text.
* AR/CR, no matching ACK within ``ack_timeout_s``, or a connection broken once the message was written:
  close the socket, wait (backoff doubling up to ``backoff_max_s``), reconnect and send the SAME bytes under
  the same control id, never a new copy, so a receiver that got the first one can drop the second by
  MSH-10.  After ``max_attempts`` sends, or ``max_retry_s`` after the first failure, the verdict is REJECTED
  with the receiver's last words: the caller dead-letters the message and moves on.
* No connection at all (refused, unreachable): the destination never saw the message, so this does not
  count towards the limits; the sender waits for it to come back, visibly retrying, then stuck.
* Any other frame is stray: logged, counted and skipped while the wait goes on.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from adapters.hl7.outbound.ack_reading import AckKind, AckVerdict, read_ack
from adapters.hl7.outbound.destination_state import DestinationState
from adapters.hl7.outbound.destinations import DestinationConfig
from adapters.hl7.outbound.event_mapping import OutboundMessage
from adapters.hl7.outbound.mllp_link import DestinationUnavailable, MllpLink
from hub.observability.metrics import OUTBOUND_FAILURES
from hub.security.tls import client_context

log = logging.getLogger(__name__)

Tick = Callable[[], None]


class _Failure(Exception):
    """One attempt that did not settle the message; ``reached``: the destination may have received it."""

    def __init__(self, text: str, *, reached: bool, code: str = "") -> None:
        super().__init__(text)
        self.text, self.reached, self.code = text, reached, code


class Deliverer:
    """Sends one message at a time to one destination over a connection it keeps open between messages."""

    def __init__(self, config: DestinationConfig, state: DestinationState | None = None) -> None:
        self.config = config
        self.state = state or DestinationState(config.name, stuck_after_s=config.stuck_after_s)
        tls = config.tls
        context = client_context(tls.ca_file, cert=tls.cert_file, key=tls.key_file) if tls else None
        self.link = MllpLink(
            config.host,
            config.port,
            connect_timeout_s=config.connect_timeout_s,
            max_frame_bytes=config.max_frame_bytes,
            ssl_context=context,
            server_name=tls.server_name if tls else None,
        )

    def deliver(self, message: OutboundMessage, stop: threading.Event, tick: Tick = lambda: None) -> AckVerdict | None:
        """The final verdict: ACCEPTED, ERROR (AE/CE) or REJECTED (gave up); None when stopped before one."""
        backoff = self.config.backoff_initial_s
        failures, first_failure = 0, 0.0
        while not stop.is_set():
            try:
                return self._attempt(message, stop, tick)
            except _Failure as failure:
                self._failed(message, failure.text)
                if failure.reached:
                    failures += 1
                    first_failure = first_failure or time.monotonic()
                    if (
                        failures >= self.config.max_attempts
                        or time.monotonic() - first_failure >= self.config.max_retry_s
                    ):
                        self.close()
                        return AckVerdict(
                            kind=AckKind.REJECTED,
                            code=failure.code or "none",
                            control_id=message.control_id,
                            text=self._gave_up(failures, failure),
                        )
            self.close()
            _wait(backoff, stop, tick)
            backoff = min(backoff * 2, self.config.backoff_max_s)
        return None

    def _attempt(self, message: OutboundMessage, stop: threading.Event, tick: Tick) -> AckVerdict | None:
        """ACCEPTED or ERROR, None when stopped; raises _Failure for anything to resend."""
        try:
            if not self.link.is_open:
                self.link.open()
            self.state.link(True)
        except DestinationUnavailable as exc:
            self.state.link(False)
            raise _Failure(str(exc), reached=False) from exc
        self.state.attempt()
        try:
            self.link.send(message.payload)
            verdict = self._await_ack(message.control_id, stop, tick)
        except DestinationUnavailable as exc:  # the destination dropped or broke the connection
            self.state.link(False)
            raise _Failure(str(exc), reached=True) from exc
        if verdict is None and not stop.is_set():
            raise _Failure(f"no ACK within {self.config.ack_timeout_s:g} s", reached=True)
        if verdict is not None and verdict.kind is AckKind.REJECTED:
            raise _Failure(f"{verdict.code}: {verdict.text or 'rejected'}", reached=True, code=verdict.code)
        return verdict

    def _await_ack(self, control_id: str, stop: threading.Event, tick: Tick) -> AckVerdict | None:
        deadline = time.monotonic() + self.config.ack_timeout_s
        while not stop.is_set() and time.monotonic() < deadline:
            # short slices, so a stop does not wait for the whole ACK timeout
            frame = self.link.next_frame(min(deadline, time.monotonic() + 0.25), tick)
            if frame is None:
                continue
            verdict = read_ack(frame, control_id)
            if verdict.kind is not AckKind.STRAY:
                return verdict
            self.state.stray()
            log.warning(
                "destination %s: discarded a stray frame while awaiting %s: %s",
                self.config.name,
                control_id,
                verdict.text,
            )
        return None

    def _failed(self, message: OutboundMessage, text: str) -> None:
        self.state.error(text)
        OUTBOUND_FAILURES.labels(self.config.name).inc()
        log.warning(
            "destination %s: message %s (event %s) not accepted: %s",
            self.config.name,
            message.control_id,
            message.event_id,
            text,
        )

    def _gave_up(self, failures: int, last: _Failure) -> str:
        return f"not accepted after {failures} send(s), last: {last.text}"

    def close(self) -> None:
        """Drop the connection (the destination still counts as reachable: we hung up, not it)."""
        self.link.close()


def _wait(seconds: float, stop: threading.Event, tick: Tick) -> None:
    deadline = time.monotonic() + seconds
    while not stop.is_set() and (left := deadline - time.monotonic()) > 0:
        stop.wait(min(left, 0.25))
        tick()
