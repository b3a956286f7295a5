"""Outbound HL7 v2: events to standard messages, and one reliable MLLP sender per destination.

<prefix>.events ──▶ <prefix>.outbound.<destination> (quorum, single active consumer)
    ──▶ event_mapping (CloudEvent -> ER7 with a control id derived from the event id)
    ──▶ delivery (MLLP send, wait for the ACK whose MSA-2 is our MSH-10, resend the same bytes)
    ──▶ ack the AMQP message (AA/CA) or dead-letter it with the receiver's ERR text (AE/CE)
"""
