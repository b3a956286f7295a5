"""Prometheus metrics. Labels are doors, steps, outcomes and states, never anything about a patient."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

MESSAGES = Counter("rxhub_messages_total", "Inbound messages by door and outcome", ["door", "outcome"])
ACK_SECONDS = Histogram("rxhub_ack_seconds", "Receipt to answer (ACK, 201, Status) by door", ["door"],
                        buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))
HANDLER_SECONDS = Histogram("rxhub_handler_seconds", "Worker time per command, commit included", ["step", "command"],
                            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5))
HANDLED = Counter("rxhub_commands_total", "Commands handled by step and result", ["step", "command", "result"])
DEAD_LETTERED = Counter("rxhub_dead_letters_total", "Messages dead-lettered by step and failure kind",
                        ["step", "kind"])
EVENTS_PUBLISHED = Counter("rxhub_events_published_total", "Outbox rows published")
