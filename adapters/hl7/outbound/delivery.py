"""Delivering one message until the destination settles it: exactly one accepted copy, or a refusal.

* AA/CA with MSA-2 = our MSH-10: delivered.
* AE/CE: refused for its content; the caller dead-letters it (resending the same bytes cannot help).
* AR/CR, no matching ACK within ``ack_timeout_s``, or a broken connection: close the socket, wait (backoff
  doubling up to ``backoff_max_s``), reconnect and send the SAME bytes under the same control id, never a
  new copy, so a receiver that got the first one can drop the second by MSH-10.
* Any other frame is stray: logged, counted and skipped while the wait goes on.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from adapters.hl7.outbound.ack_reading import AckKind, AckVerdict, read_ack
from adapters.hl7.outbound.destination_state import DestinationState, SenderState
from adapters.hl7.outbound.destinations import DestinationConfig
from adapters.hl7.outbound.event_mapping import OutboundMessage
from adapters.hl7.outbound.mllp_link import DestinationUnavailable, MllpLink
from hub.observability.metrics import OUTBOUND_FAILURES
from hub.security.tls import client_context

log = logging.getLogger(__name__)

Tick = Callable[[], None]


class Deliverer:
    """Sends one message at a time to one destination over a connection it keeps open between messages."""

    def __init__(self, config: DestinationConfig, state: DestinationState | None = None) -> None:
        self.config = config
        self.state = state or DestinationState(config.name)
        tls = config.tls
        context = client_context(tls.ca_file, cert=tls.cert_file, key=tls.key_file) if tls else None
        self.link = MllpLink(config.host, config.port, connect_timeout_s=config.connect_timeout_s,
                             max_frame_bytes=config.max_frame_bytes, ssl_context=context,
                             server_name=tls.server_name if tls else None)

    def deliver(self, message: OutboundMessage, stop: threading.Event, tick: Tick = lambda: None) -> AckVerdict | None:
        """The final verdict (ACCEPTED or ERROR), or None when ``stop`` was set before one came."""
        backoff = self.config.backoff_initial_s
        while not stop.is_set():
            self.state.attempt()
            verdict = self._attempt(message, stop, tick)
            if verdict is not None and verdict.kind in (AckKind.ACCEPTED, AckKind.ERROR):
                return verdict
            self.link.close()
            self.state.set(SenderState.BACKING_OFF)
            _wait(backoff, stop, tick)
            backoff = min(backoff * 2, self.config.backoff_max_s)
        return None

    def _attempt(self, message: OutboundMessage, stop: threading.Event, tick: Tick) -> AckVerdict | None:
        try:
            if not self.link.is_open:
                self.link.open()
            self.link.send(message.payload)
            verdict = self._await_ack(message.control_id, stop, tick)
        except DestinationUnavailable as exc:
            self._failed(message, str(exc))
            return None
        if verdict is None:
            self._failed(message, f"no ACK within {self.config.ack_timeout_s:g} s")
        elif verdict.kind is AckKind.REJECTED:
            self._failed(message, f"{verdict.code}: {verdict.text or 'rejected'}")
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
            log.warning("destination %s: discarded a stray frame while awaiting %s: %s", self.config.name,
                        control_id, verdict.text)
        return None

    def _failed(self, message: OutboundMessage, text: str) -> None:
        self.state.error(text)
        OUTBOUND_FAILURES.labels(self.config.name).inc()
        log.warning("destination %s: message %s (event %s) not accepted: %s; will resend the same bytes",
                    self.config.name, message.control_id, message.event_id, text)

    def close(self) -> None:
        """Drop the connection."""
        self.link.close()


def _wait(seconds: float, stop: threading.Event, tick: Tick) -> None:
    deadline = time.monotonic() + seconds
    while not stop.is_set() and (left := deadline - time.monotonic()) > 0:
        stop.wait(min(left, 0.25))
        tick()
