"""Delay queues (retry parking, claim resends) must not lose a message when the broker stops.

They are TTL queues that dead-letter back into the work path.  Classic-queue dead-lettering is at-most-once:
a message whose TTL runs out while the broker shuts down is dropped (the full chaos run lost a claim's
payer-timeout check this way during ``rabbitmqctl stop_app``, leaving an order in claim_pending for good,
its payer answer having been dropped; payer timeouts now come from the claim ledger instead,
hub.service.workflow.claim_sweeper).  RabbitMQ 3.10+ offers at-least-once dead-lettering on quorum queues
(``x-dead-letter-strategy: at-least-once`` with ``x-overflow: reject-publish``).  Restarting the broker in the
test suite would disturb every other test on the machine, so this checks the declared topology instead.
"""

from __future__ import annotations

import pytest

from hub.messaging.topology import Topology


def _delay_queues() -> list[str]:
    return [q.name for q in Topology("t").queues() if "x-dead-letter-exchange" in q.arguments]


@pytest.mark.parametrize("name", _delay_queues())
def test_delay_queue_dead_letters_at_least_once(name: str) -> None:
    queue = next(q for q in Topology("t").queues() if q.name == name)
    arguments = queue.declare_arguments()
    assert arguments.get("x-queue-type") == "quorum"
    assert arguments.get("x-dead-letter-strategy") == "at-least-once"
    assert arguments.get("x-overflow") == "reject-publish"


def test_there_are_delay_queues_to_check() -> None:
    assert {"t.claim-resend", "t.intake.retry", "t.payer-responses.retry"} <= set(_delay_queues())
