"""The switch path on the real broker and database for tests: claims published as the outbox relay publishes
them (after their ledger row, as the claim worker writes it), the switch connector, simulated switches on real
TCP sockets, and the payer-responses runner recording the commands it would hand to the claim worker."""

from __future__ import annotations

import queue
import threading
import uuid
from collections.abc import Sequence

import pika
from sqlalchemy import Engine

from adapters.ncpdp.payer_link import D0ClaimCodec, claim_properties, payer_response_runner
from adapters.ncpdp.switch import RoutingTable, SwitchConnector
from hub.domain.claim_exchange import ClaimRequestData
from hub.domain.commands import RecordClaimResponse
from hub.messaging.async_publisher import OutgoingMessage
from hub.messaging.blocking_publisher import BlockingConfirmingPublisher, connect
from hub.messaging.consumer import run_in_thread, wait_ready
from hub.messaging.envelope import Envelope
from hub.messaging.topology import Topology
from hub.persistence.claims import ClaimLedger, WireNote

PURPOSES = {"B1": "billing", "B2": "reversal", "B3": "rebill"}


class SwitchLink:
    """Everything between the hub's outbox and its claim-responses handlers, through switches, for one test."""

    def __init__(self, amqp_url: str, topology: Topology, engine: Engine, table: RoutingTable) -> None:
        self.amqp_url, self.topology, self.engine = amqp_url, topology, engine
        self.stop = threading.Event()
        self.codec = D0ClaimCodec()
        self.connector = SwitchConnector(amqp_url, topology, table, engine)
        self.connector.declare()  # bound before the first claim is published
        self.threads = [threading.Thread(target=self.connector.run, args=(self.stop,), daemon=True)]
        self.threads[0].start()
        self.commands: queue.Queue[Envelope] = queue.Queue()
        self.runner = payer_response_runner(amqp_url, topology, handler=self.commands.put, max_retries=1)
        self.threads.append(run_in_thread(self.runner, self.stop))
        assert wait_ready([self.runner, self.connector.runner], 10.0)
        self.claims = BlockingConfirmingPublisher(amqp_url)

    def record_sent(self, data: ClaimRequestData, resends: int = 0) -> None:
        """The claim worker's ledger row, written before the claim's message exists."""
        with self.engine.begin() as conn:
            ClaimLedger(conn).sent(
                exchange_id=data.exchange_id,
                prescription_id=data.prescription_id,
                fill_number=data.fill_number,
                attempt=data.attempt,
                transaction=data.transaction.value,
                purpose=PURPOSES[data.transaction.value],
                resends=resends,
            )

    def publish(self, data: ClaimRequestData, message_id: str | None = None) -> str:
        """Publish a claim as the relay does (another copy of an outbox row when ``message_id`` repeats)."""
        message_id = message_id or str(uuid.uuid4())
        encoded = self.codec.encode(data)
        props = claim_properties(data.exchange_id, uuid.uuid4(), self.topology.payer_responses_queue, message_id)
        self.claims.publish(OutgoingMessage(self.topology.payer_exchange, encoded.routing_key, encoded.body, props))
        return message_id

    def send(self, data: ClaimRequestData) -> str:
        """Write the ledger row, then publish."""
        self.record_sent(data)
        return self.publish(data)

    def next_answer(self, timeout_s: float = 10.0) -> RecordClaimResponse | None:
        """The next answer's command, or None when none comes in time."""
        try:
            command = self.commands.get(timeout=timeout_s).command()
        except queue.Empty:
            return None
        assert isinstance(command, RecordClaimResponse)
        return command

    def exchange(self, data: ClaimRequestData) -> RecordClaimResponse:
        """Send a claim and return its answer's command."""
        self.send(data)
        command = self.next_answer()
        assert command is not None, f"no answer for {data.exchange_id}"
        assert command.exchange_id == data.exchange_id
        return command

    def notes(self, prescription_id: str) -> list[WireNote]:
        """The wire log of a prescription."""
        with self.engine.connect() as conn:
            return ClaimLedger(conn).wire_log(prescription_id)

    def events(self, prescription_id: str) -> list[tuple[str, str | None]]:
        """(event, switch) per wire note, oldest first."""
        return [(n.event, n.switch) for n in self.notes(prescription_id)]

    def close(self, extra_queues: Sequence[str] = ()) -> None:
        """Stop the threads, close connections, delete the connector's queue."""
        self.stop.set()
        for thread in self.threads:
            thread.join(5)
        self.claims.close()
        connection = connect(self.amqp_url)
        try:
            channel = connection.channel()
            for name in (self.connector.queue, *extra_queues):
                channel.queue_delete(queue=name)
        except pika.exceptions.AMQPError:
            pass
        finally:
            connection.close()
