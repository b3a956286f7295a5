"""The hub's tables (SQLAlchemy Core): one metadata object for migrations, repositories and tests."""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    DateTime,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    Numeric,
    Sequence,
    String,
    Table,
    Text,
    UniqueConstraint,
    cast,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator


class JsonText(TypeDecorator[str]):
    """A JSON column read and written as its text, for documents pydantic parses and writes itself.

    pydantic validates a prescription from JSON text, and dumps one to text, faster than orjson (the engine's
    JSON codec) and pydantic on a dict: 51 -> 39 us a load, 33 -> 26 us a store, for 3.9 KB; each workflow
    step loads and stores one.
    """

    impl = JSON
    cache_ok = True

    def bind_processor(self, dialect: Dialect) -> None:
        return None  # the text goes as it is (the JSON type would encode it a second time)

    def column_expression(self, colexpr: Any) -> Any:
        return cast(colexpr, Text)  # PostgreSQL's json as it was written; psycopg would decode it

    def result_processor(self, dialect: Dialect, coltype: object) -> None:
        return None


metadata = MetaData()

#: every message that reached a door, its dedupe key and the answer it got (resent → same answer)
inbound_messages = Table(
    "inbound_messages",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("door", String(16), nullable=False),
    Column("sender", String(200), nullable=False),
    Column("control_id", String(200), nullable=False),
    Column("message_type", String(40)),
    Column("received_at", DateTime(timezone=True), nullable=False),
    Column("outcome", String(8), nullable=False),
    Column("raw", LargeBinary),
    Column("answer", LargeBinary),
    Column("command_ids", JSON, nullable=False, default=list),
    UniqueConstraint("door", "sender", "control_id", name="uq_inbound_dedupe"),
    #: no index for the operators' reads (search by time or MSH-10 alone, counts, purge): three cost the
    #: sequential sender's ACK path 20-30% of its rate (migration 0011 dropped those of 0010)
)

#: messages a door answered with its standard's error (HL7 AE/AR, FHIR 4xx/5xx, SCRIPT Error): apart from
#: ``inbound_messages``, whose key answers resends of accepted messages, so a corrected message resent under
#: the same control id is read afresh; bounded by sender rate, row count and retention (migration 0016)
refused_messages = Table(
    "refused_messages",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("door", String(16), nullable=False),
    #: the principal (``hub.security.principals.dedupe_sender``), or what the connection proved
    Column("sender", String(200), nullable=False),
    Column("control_id", String(200), nullable=False),
    Column("message_type", String(40)),
    Column("received_at", DateTime(timezone=True), nullable=False),
    #: the answer's code: HL7 MSA-1, FHIR HTTP status, SCRIPT Error code
    Column("outcome", String(8), nullable=False),
    Column("reason", Text, nullable=False),
    Column("answer", LargeBinary),
    #: the body, sealed, only when raw messages are encrypted at rest, and at most its first 64 KiB
    Column("raw", LargeBinary),
    Column("raw_size", Integer, nullable=False),
    Index("ix_refused_messages_received_at", "received_at"),
    Index("ix_refused_messages_control_id", "control_id"),
)

#: (consumer, message id) pairs already applied: the idempotency record, written with the effects
processed_messages = Table(
    "processed_messages",
    metadata,
    Column("consumer", String(64), primary_key=True),
    Column("message_id", String(64), primary_key=True),
    Column("processed_at", DateTime(timezone=True), nullable=False),
)

#: transactional outbox: rows written with a state change, published after commit, then marked sent
outbox = Table(
    "outbox",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("id", String(36), nullable=False, unique=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("target", String(16), nullable=False),
    Column("routing_key", String(200), nullable=False),
    Column("message_type", String(100), nullable=False),
    Column("content_type", String(60), nullable=False),
    Column("correlation_id", String(64)),
    Column("body", LargeBinary, nullable=False),
    Column("headers", JSON, nullable=False, default=dict),
    Column("published_at", DateTime(timezone=True)),
    #: set when the broker refused the row for good (unroutable): it is parked, not retried forever
    Column("error", Text),
    #: SQLite has no SKIP LOCKED: a relay marks the rows it is publishing until then (several processes)
    Column("claimed_until", DateTime(timezone=True)),
    Index("ix_outbox_unpublished", "published_at", "seq"),
    #: a claim's timeout check and an operator's message story look rows up by correlation (migration 0008)
    Index("ix_outbox_correlation", "correlation_id", "seq"),
)

prescriptions = Table(
    "prescriptions",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("correlation_id", String(36), nullable=False, unique=True),
    Column("rx_number", String(20), nullable=False, unique=True),
    Column("placer_order_number", String(100), nullable=False),
    Column("placer_system", String(200)),
    Column("source", String(16), nullable=False),
    Column("state", String(32), nullable=False),
    Column("setting", String(16), nullable=False),
    Column("patient_id", String(36)),
    #: the stored inbound message this order came from (``hl7:<id>``, ``fhir:<id>``, ``script:<id>``)
    Column("raw_message_ref", String(80), index=True),
    Column("document", JsonText, nullable=False),
    Column("version", Integer, nullable=False, default=1),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    #: the last day the prescription can matter to screening another order of the patient (its supply ran out);
    #: NULL while a fill is in progress (``PrescriptionRecord.on_profile_until``, migration 0012)
    Column("on_profile_until", Date),
    #: the principal that sent the order (``feed:NAME``...): cancels, reads and searches resolve within it;
    #: NULL for verbal orders and rows stored before migration 0013
    Column("owner", String(200)),
    Index("ix_prescriptions_state", "state"),
    Index("ix_prescriptions_patient", "patient_id", "state"),
    #: the order number first: a lookup by it alone (FHIR If-None-Exist without a system) uses the index too
    Index("ix_prescriptions_placer", "placer_order_number", "placer_system"),
)

#: counters for human-facing numbers (Rx numbers on SQLite)
counters = Table(
    "counters",
    metadata,
    Column("name", String(40), primary_key=True),
    Column("value", Integer, nullable=False),
)

#: secrets the hub generates for itself and every process sharing the database reads (the command key)
hub_secrets = Table(
    "hub_secrets",
    metadata,
    Column("name", String(40), primary_key=True),
    Column("value", String(200), nullable=False),
)

#: Rx numbers on PostgreSQL (migration 0007; SQLite has no sequences and keeps the counter row)
rx_number_seq = Sequence("rx_number_seq", start=1000001, metadata=metadata)

#: append-only: who did what, when, to which prescription; hash-chained in ``seq`` order (hub.security.audit_chain)
audit_log = Table(
    "audit_log",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("actor", String(100), nullable=False),
    Column("role", String(20), nullable=False),
    Column("action", Text, nullable=False),
    Column("prescription_id", String(36)),
    Column("outcome", String(20), nullable=False, default="ok"),
    Column("detail", Text),
    Column("patient_id", String(36)),
    #: the writer's HMAC of the entry (RXHUB_AUDIT_KEY): the sealer chains no entry whose tag does not hold
    Column("tag", String(64)),
    #: the id of the key that sealed the entry (None: sealed without a key, plain SHA-256)
    Column("key_id", String(16)),
    #: position in the chain, given when the writing transaction commits (ids are not commit order)
    Column("seq", Integer),
    Column("prev_hash", String(64)),
    Column("hash", String(64)),
    Index("ux_audit_log_seq", "seq", unique=True),
    #: the entries waiting to be sealed into the chain: a handful at any time, read at every commit
    Index("ix_audit_log_unsealed", "id", postgresql_where=text("hash IS NULL"), sqlite_where=text("hash IS NULL")),
    Index("ix_audit_log_at", "at"),
    Index("ix_audit_log_actor", "actor"),
    Index("ix_audit_log_prescription", "prescription_id"),
    Index("ix_audit_log_patient", "patient_id"),
)

#: staff and client identities; tokens are stored as SHA-256 hashes and shown once at creation
users = Table(
    "users",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("name", String(100), nullable=False, unique=True),
    Column("role", String(20), nullable=False),
    Column("licence", String(40)),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("revoked_at", DateTime(timezone=True)),
    #: an explicit expiry chosen at creation; otherwise the role's default lifetime applies
    Column("expires_at", DateTime(timezone=True)),
)

#: the identities that send orders (EHR interfaces, SCRIPT networks); a feed's token is a ``users`` row of role
#: ``feed`` with the same name
feeds = Table(
    "feeds",
    metadata,
    Column("name", String(100), primary_key=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("disabled_at", DateTime(timezone=True)),
)

#: what a feed may present or claim: ``cert`` (TLS subject CN), ``hl7`` (MSH-3|MSH-4), ``script`` (SCRIPT From);
#: each value is bound to one feed only
feed_bindings = Table(
    "feed_bindings",
    metadata,
    Column("kind", String(16), primary_key=True),
    Column("value", String(200), primary_key=True),
    Column("feed", String(100), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Index("ix_feed_bindings_feed", "feed"),
)


patients = Table(
    "patients",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("family_name", String(100)),
    Column("birth_date", Date),
    Column("document", JSON, nullable=False),
    #: the pharmacy's insurance on file for the patient (BIN/PCN/group/cardholder)
    Column("coverage", JSON),
    Column("created_at", DateTime(timezone=True), nullable=False),
    #: the profile a technician linked this one into (migration 0015): never a match candidate again
    Column("merged_into", String(36)),
    Index("ix_patients_name_dob", "family_name", "birth_date"),
)

#: the pharmacy's insurance on file for a patient, in billing order (1 primary, 2 secondary...; migration 0024);
#: when a patient has rows here they override ``patients.coverage``
patient_coverages = Table(
    "patient_coverages",
    metadata,
    Column("patient_id", String(36), primary_key=True),
    Column("position", Integer, primary_key=True),
    Column("coverage", JSON, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

patient_identifiers = Table(
    "patient_identifiers",
    metadata,
    Column("system", String(200), primary_key=True),
    Column("value", String(100), primary_key=True),
    Column("patient_id", String(36), nullable=False),
)

#: orders kept off a profile their identifier (or name and birth date) pointed at, because the demographics
#: conflict: a technician links the two profiles or keeps them apart (docs/patient-matching.md, migration 0015)
identity_conflicts = Table(
    "identity_conflicts",
    metadata,
    Column("id", String(36), primary_key=True),
    #: the profile the order was given, and the one it was kept off
    Column("new_patient_id", String(36), nullable=False),
    Column("existing_patient_id", String(36), nullable=False),
    #: the identifier the order shared with the existing profile (NULL: name and birth date found it)
    Column("identifier_system", String(200)),
    Column("identifier_value", String(100)),
    #: names of the fields that conflict (birth_date, sex, name), never their values
    Column("fields", JSON, nullable=False),
    #: the door and the principal that sent the order
    Column("source", String(16), nullable=False),
    Column("principal", String(200)),
    Column("created_at", DateTime(timezone=True), nullable=False),
    #: open | linked | kept_apart
    Column("status", String(12), nullable=False),
    Column("decided_by", String(100)),
    Column("decided_at", DateTime(timezone=True)),
    Column("reason", Text),
    Index("ix_identity_conflicts_status", "status", "created_at"),
)

#: orders a door had answered positively that intake refused (a second order under a held placer number):
#: the staff queue of refused orders and the FHIR read of a refused order (migration 0017)
refused_orders = Table(
    "refused_orders",
    metadata,
    #: derived from the refused command's message id: a redelivery records nothing twice
    Column("id", String(36), primary_key=True),
    #: the refused order's correlation id (the MedicationRequest id a FHIR client was given)
    Column("correlation_id", String(36), nullable=False),
    Column("owner", String(200)),
    Column("source", String(16), nullable=False),
    Column("placer_order_number", String(100), nullable=False),
    Column("placer_system", String(200)),
    #: duplicate-order, and the reason in words (as sent back to the sender)
    Column("code", String(40), nullable=False),
    Column("reason", Text, nullable=False),
    #: the prescription that holds the order's identity
    Column("held_by", String(36)),
    #: the sender's message: HL7 MSH-10 when it asked for an application acknowledgement; the stored request
    Column("control_id", String(200)),
    Column("raw_message_ref", String(80)),
    Column("refused_at", DateTime(timezone=True), nullable=False),
    Index("ix_refused_orders_refused_at", "refused_at"),
    Index("ix_refused_orders_correlation", "correlation_id"),
)

prescribers = Table(
    "prescribers",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("npi", String(20), unique=True),
    Column("family_name", String(100)),
    Column("document", JSON, nullable=False),
    #: an order without the prescriber's NPI looks for the namesakes (then compares DEA and identifiers)
    Index("ix_prescribers_family_name", "family_name"),
)

inventory = Table(
    "inventory",
    metadata,
    Column("ndc", String(11), primary_key=True),
    Column("lot", String(40), primary_key=True),
    Column("expiry", Date, nullable=False),
    Column("on_hand", Numeric(12, 3), nullable=False),
    Column("reserved", Numeric(12, 3), nullable=False),
)

#: every claim transmission sent to a payer and whether it was answered: resends, timeouts, audits
claim_transmissions = Table(
    "claim_transmissions",
    metadata,
    Column("exchange_id", String(120), primary_key=True),
    Column("prescription_id", String(36), nullable=False),
    Column("fill_number", Integer, nullable=False),
    Column("attempt", Integer, nullable=False),
    Column("transaction", String(4), nullable=False),
    #: billing | rebill (a B3) | reversal | unknown-status (a reversal sent because a billing went unanswered)
    Column("purpose", String(20), nullable=False),
    Column("resends", Integer, nullable=False, default=0),
    Column("sent_at", DateTime(timezone=True), nullable=False),
    Column("answered_at", DateTime(timezone=True)),
    Column("status", String(12)),
    Column("reject_codes", String(60)),
    #: when a status-unknown claim's reversal that went unanswered (or met a 92) is sent again (migration 0025)
    Column("retry_at", DateTime(timezone=True)),
    #: the prescription view and the claim sweeper's unanswered transmissions (migration 0008)
    Index("ix_claim_transmissions_prescription", "prescription_id"),
    #: the dashboard's and /metrics' counts per payer status, a covering index (migration 0010)
    Index("ix_claim_transmissions_status", "status"),
    Index(
        "ix_claim_transmissions_unanswered",
        "sent_at",
        postgresql_where=text("answered_at IS NULL"),
        sqlite_where=text("answered_at IS NULL"),
    ),
    Index(
        "ix_claim_transmissions_retry",
        "retry_at",
        postgresql_where=text("retry_at IS NOT NULL"),
        sqlite_where=text("retry_at IS NOT NULL"),
    ),
)

#: one row per event on the wire of a claim transmission: transmitted (to which switch), answered, no-answer,
#: stale or duplicate dropped by the per-fill fence, late answers; the ledger's reconciliation (migration 0022)
claim_wire_log = Table(
    "claim_wire_log",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("exchange_id", String(120), nullable=False),
    Column("prescription_id", String(36), nullable=False),
    Column("fill_number", Integer, nullable=False),
    Column("event", String(20), nullable=False),
    Column("message_id", String(64)),
    Column("switch", String(60)),
    Column("status", String(12)),
    Column("detail", String(200)),
    Column("at", DateTime(timezone=True), nullable=False),
    Index("ix_claim_wire_log_fill", "prescription_id", "fill_number"),
    Index("ix_claim_wire_log_message", "message_id"),
    #: a message is transmitted once, whichever connector consumes it (migration 0023)
    Index(
        "ux_claim_wire_log_transmitted",
        "message_id",
        unique=True,
        postgresql_where=text("event = 'transmitting'"),
        sqlite_where=text("event = 'transmitting'"),
    ),
)

#: what became of each command a staff member sent through the API (GET /api/commands/{id}): pending from the
#: 202 on, then applied or refused by the worker (in the transaction of its effects), or dead-lettered;
#: one row per staff command, none per door order (migration 0018)
command_outcomes = Table(
    "command_outcomes",
    metadata,
    Column("message_id", String(36), primary_key=True),
    Column("command", String(100), nullable=False),
    #: the user who sent it (users.id): only they and admins read the outcome
    Column("actor", String(36), nullable=False),
    Column("prescription_id", String(36)),
    #: pending | applied | refused | dead-lettered
    Column("outcome", String(16), nullable=False),
    Column("reason", Text),
    Column("at", DateTime(timezone=True), nullable=False),
    Index("ix_command_outcomes_at", "at"),
)

#: each outbound HL7 destination's sender state, written by the sender and read by ``rxhub outbound status``,
#: /metrics and the admin dashboard from any process (migration 0019)
outbound_destinations = Table(
    "outbound_destinations",
    metadata,
    Column("name", String(63), primary_key=True),
    #: the sender's phase (idle, sending, backing_off, broker_down, stopped)
    Column("state", String(16), nullable=False),
    Column("connected", Boolean, nullable=False),
    Column("in_flight_control_id", String(200)),
    #: when the event of the message in flight happened: the oldest waiting age
    Column("in_flight_event_time", DateTime(timezone=True)),
    #: first failed attempt of the message in flight (None while it has not failed)
    Column("failing_since", DateTime(timezone=True)),
    Column("attempts", Integer, nullable=False),
    Column("last_error", Text),
    Column("last_error_at", DateTime(timezone=True)),
    #: running totals: sent, delivered, retried, dead_lettered, superseded, skipped, stray_acks
    Column("counts", JSON, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

#: the newest event of each order a destination accepted: an older one (a replayed dead letter) is superseded
outbound_order_progress = Table(
    "outbound_order_progress",
    metadata,
    Column("destination", String(63), primary_key=True),
    Column("subject", String(64), primary_key=True),
    Column("event_id", String(64), nullable=False),
    Column("event_type", String(64), nullable=False),
    Column("event_time", DateTime(timezone=True), nullable=False),
)

#: emergency access: a higher role an admin gives a user until ``expires_at`` (or ``ended_at``), with the reason
#: (hub.persistence.break_glass; migration 0021)
break_glass_grants = Table(
    "break_glass_grants",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("user_id", String(36), nullable=False),
    Column("user_name", String(100), nullable=False),
    Column("role", String(20), nullable=False),
    Column("reason", Text, nullable=False),
    Column("granted_by", String(100), nullable=False),
    Column("granted_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("ended_at", DateTime(timezone=True)),
    Column("ended_by", String(100)),
    Index("ix_break_glass_grants_user", "user_id"),
)
