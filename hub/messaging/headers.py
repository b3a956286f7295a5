"""The AMQP headers the hub sets and reads, each name defined once.

Publishers, consumers, the dead-letter tools and the adapters' connectors all meet on these names: a
header written under one spelling and read under another is lost without an error, so none is spelt twice.
"""

from __future__ import annotations

#: the door a command came through (``hl7``, ``fhir``...), for audit and metrics at the worker
SOURCE_HEADER = "x-rxhub-source"
#: ``<kid>:<hex HMAC-SHA256>`` of a command's body (``hub.security.command_signing``)
SIGNATURE_HEADER = "x-rxhub-signature"
#: the order a claim is about, echoed on the payer's answer (``adapters.ncpdp.payer_link``)
ORDER_CORRELATION_HEADER = "x-rxhub-order-correlation"
#: the SCRIPT recipient an outbound message is for (``adapters.ncpdp.script``)
SCRIPT_TO_HEADER = "x-rxhub-script-to"
#: the event an outbound message was made from
EVENT_ID_HEADER = "x-rxhub-event-id"

# Why and where a message failed: set on its way to a retry queue or the dead letters, read by ``rxhub dlq``.
#: how many times a transient failure was retried
RETRIES_HEADER = "x-rxhub-retries"
#: how many times an operator replayed the dead letter
REPLAYS_HEADER = "x-rxhub-replays"
ERROR_HEADER = "x-rxhub-error"
#: ``hub.messaging.consumer.FailureKind`` (or an outbound delivery's own kind)
FAILURE_KIND_HEADER = "x-rxhub-failure-kind"
FIRST_FAILURE_HEADER = "x-rxhub-first-failure"
LAST_FAILURE_HEADER = "x-rxhub-last-failure"
#: the queue the message was taken from: where a replay sends it back
QUEUE_HEADER = "x-rxhub-queue"
TRACEBACK_HEADER = "x-rxhub-traceback"
#: the outbound destination that refused or could not be reached
DESTINATION_HEADER = "x-rxhub-destination"
#: the HL7 message control id an outbound delivery sent
CONTROL_ID_HEADER = "x-rxhub-control-id"
