"""A payer link on the real broker for tests: the simulator and the payer-responses runner in threads, claims
published exactly as the outbox relay publishes them, the commands the runner hands to the claim-responses
handlers recorded in place of those handlers (the hub's side of the link is tested in tests/e2e)."""

from __future__ import annotations

import queue
import threading
import time
import uuid
from collections.abc import Sequence
from pathlib import Path

import pika

from adapters.ncpdp.payer import load_payer_config
from adapters.ncpdp.payer_link import (
    D0ClaimCodec,
    claim_properties,
    declare_sim_queue,
    payer_response_runner,
    run_payer_sim,
)
from hub.domain.claim_exchange import ClaimRequestData
from hub.domain.commands import RecordClaimResponse
from hub.messaging.async_publisher import OutgoingMessage
from hub.messaging.blocking_publisher import BlockingConfirmingPublisher, connect
from hub.messaging.consumer import run_in_thread, wait_ready
from hub.messaging.envelope import Envelope
from hub.messaging.topology import Topology


class PayerLink:
    """Everything between the hub's outbox and its claim-responses queue, running for one test."""

    def __init__(self, amqp_url: str, topology: Topology, config_path: Path) -> None:
        self.amqp_url = amqp_url
        self.topology = topology
        self.stop = threading.Event()
        self.codec = D0ClaimCodec()
        self.connection = connect(amqp_url)
        self.channel = self.connection.channel()
        # what run_payer_sim declares, declared first so claims sent before it consumes wait in its queue
        declare_sim_queue(self.channel, topology, load_payer_config(config_path).bins)
        self.sim = threading.Thread(
            target=run_payer_sim, args=(amqp_url, topology, config_path, self.stop), daemon=True, name="payer-sim"
        )
        self.sim.start()
        self.commands: queue.Queue[Envelope] = queue.Queue()
        #: the next this many batches fail as a database outage would (the answers must be retried)
        self.failures_left = 0
        self.runner = payer_response_runner(
            amqp_url, topology, handler=self._record_one, batch_handler=self._record, max_retries=1
        )
        self.responses = run_in_thread(self.runner, self.stop)
        assert wait_ready([self.runner], 10.0)
        self.claims = BlockingConfirmingPublisher(amqp_url)

    def send(self, data: ClaimRequestData, order: uuid.UUID) -> None:
        """Publish a claim the way the relay does: payer exchange, routing key, reply_to, correlation, echo."""
        encoded = self.codec.encode(data)
        props = claim_properties(data.exchange_id, order, self.topology.payer_responses_queue)
        self.claims.publish(OutgoingMessage(self.topology.payer_exchange, encoded.routing_key, encoded.body, props))

    def _record(self, envelopes: Sequence[Envelope]) -> list[BaseException | None]:
        if self.failures_left:
            self.failures_left -= 1
            return [ConnectionError("database unavailable")] * len(envelopes)
        for envelope in envelopes:
            self.commands.put(envelope)
        return [None] * len(envelopes)

    def _record_one(self, envelope: Envelope) -> None:
        outcome = self._record([envelope])[0]
        if outcome is not None:
            raise outcome

    def next_envelope(self, timeout_s: float = 5.0) -> Envelope | None:
        """The next command handed to the claim-responses handlers, or None when none comes in time."""
        try:
            return self.commands.get(timeout=timeout_s)
        except queue.Empty:
            return None

    def next_message(self, queue: str, timeout_s: float) -> tuple[pika.BasicProperties, bytes] | None:
        """Poll a queue with basic_get until a message arrives or the time is up."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            method, props, body = self.channel.basic_get(queue, auto_ack=True)
            if method is not None:
                return props, body
            self.connection.sleep(0.05)
        return None

    def exchange(self, data: ClaimRequestData, order: uuid.UUID | None = None) -> RecordClaimResponse:
        """Send a claim and return the command its answer became."""
        self.send(data, order or uuid.uuid4())
        envelope = self.next_envelope()
        assert envelope is not None, f"no answer for {data.exchange_id}"
        command = envelope.command()
        assert isinstance(command, RecordClaimResponse)
        assert command.exchange_id == data.exchange_id
        return command

    def publish_raw(self, exchange: str, routing_key: str, body: bytes, props: pika.BasicProperties) -> None:
        """Publish anything with confirms (tests play a payer connector with it)."""
        self.claims.publish(OutgoingMessage(exchange, routing_key, body, props))

    def close(self) -> None:
        """Stop the threads and close every connection."""
        self.stop.set()
        self.sim.join(5)
        self.responses.join(5)
        self.claims.close()
        self.connection.close()
