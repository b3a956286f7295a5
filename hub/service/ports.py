"""What the doors (adapters) need from the hub, as protocols: they never see pika or SQLAlchemy."""

from __future__ import annotations

from concurrent.futures import Future
from dataclasses import dataclass
from typing import Literal, Protocol

from hub.domain.claim_exchange import ClaimRequestData, EncodedClaim
from hub.domain.eligibility import EligibilityRequestData
from hub.domain.parties import Patient
from hub.domain.prescription import Prescription
from hub.domain.refused_orders import RefusedOrder
from hub.messaging.envelope import Envelope
from hub.service.inbound_entry import InboundEntry
from hub.service.record_criteria import OrderCriteria, PatientCriteria


class CommandSink(Protocol):
    """Publishes commands durably; returns only when the broker has confirmed every one."""

    async def publish_commands(self, envelopes: list[Envelope]) -> None:
        """Raise BrokerUnavailable or PublishNotConfirmed when not all are stored."""


class InboundRecord(Protocol):
    """What a door gets back for a message it has seen before."""

    @property
    def answer(self) -> bytes | None: ...

    @property
    def outcome(self) -> str: ...

    @property
    def raw(self) -> bytes | None: ...


class InboundLog(Protocol):
    """Dedupe and raw-message store, keyed by door, sender and the sender's message id."""

    def find(self, door: str, sender: str, control_id: str) -> InboundRecord | None:
        """The earlier accepted message with this key."""

    def claim(self, entry: InboundEntry) -> InboundRecord | None:
        """Take the entry's key before publishing: None when this message holds it, else what holds it."""

    def release(self, record_id: str) -> None:
        """Give back a claim whose message was not accepted after all."""

    def record(self, entry: InboundEntry) -> str:
        """Store an accepted message with its answer."""


class DedupeJournal(Protocol):
    """The dedupe store as the doors use it: fast lookups, records written beside the answer."""

    async def find(self, door: str, sender: str, control_id: str) -> InboundRecord | None:
        """The earlier accepted message with this key, written or still queued."""

    async def claim(self, entry: InboundEntry) -> InboundRecord | None:
        """Take the entry's key before publishing: None when this message holds it, else what holds it."""

    def release(self, door: str, sender: str, control_id: str) -> None:
        """Give back a key claimed by a message that was not accepted after all."""

    def record_later(self, entry: InboundEntry) -> Future[str]:
        """Queue an accepted message with its answer; visible to ``find`` at once, committed shortly."""

    async def drain(self) -> None:
        """Return once every record queued so far is written."""


class OrderIndex(Protocol):
    """Which orders a principal has sent: a cancel must name one of them (recorded, or accepted and queued)."""

    async def known(self, principal: str, correlation_id: str) -> bool:
        """Whether this principal sent the order with this correlation id."""

    def accepted(self, principal: str, correlation_id: str, message_id: str) -> None:
        """Note a new order just confirmed by the broker (its worker may not have recorded it yet)."""


@dataclass(frozen=True)
class RefusedMessage:
    """A message a door answered with its standard's error instead of taking it (docs/security.md)."""

    door: str
    #: the principal the door authenticated; for a message refused before it could tell, what the connection
    #: proved (a certificate's CN, ``address:HOST``); the audit entry's actor
    actor: str
    #: the sender the message claims (HL7 MSH-3|MSH-4, SCRIPT From), when it says one
    claimed_sender: str | None
    control_id: str
    message_type: str
    #: the answer's code in the standard's terms: HL7 MSA-1 (AE, AR, CE, CR), FHIR HTTP status, SCRIPT Error
    answer_code: str
    #: the audit outcome: ``error`` (the content is wrong: fix it and resend) or ``refused`` (not taken as it
    #: is: not authorised, not supported, not now)
    outcome: Literal["error", "refused"]
    reason: str
    #: the answer sent (None: the sender asked for none)
    answer: bytes | None
    raw: bytes
    #: whose budget the record takes (``hub.security.rate_limit.SenderBudget``): the principal, or the peer
    #: address when the sender is only what the message claims
    budget_key: str


class RefusalLog(Protocol):
    """Where the doors keep what they refused, off the answer's path: the message log and the audit trail."""

    def record_later(self, refusal: RefusedMessage) -> Future[None]:
        """Queue the record and its audit entry; never raises (a failure to write is logged)."""


class ClaimCodec(Protocol):
    """Encodes a claim for the payer's wire format (NCPDP D.0); provided by the NCPDP adapter."""

    def encode(self, request: ClaimRequestData) -> EncodedClaim:
        """The bytes and the payer routing key (BIN, and PCN when present)."""

    def encode_eligibility(self, request: EligibilityRequestData) -> EncodedClaim:
        """An E1 eligibility check, routed like a claim."""


class PrescriptionQueries(Protocol):
    """Read-only views of the pharmacy's records for the doors (FHIR reads, SCRIPT answers)."""

    def prescription(self, prescription_id: str) -> Prescription | None:
        """One prescription aggregate."""

    def prescription_by_placer(
        self, placer_system: str | None, placer_order_number: str, owner: str | None = None
    ) -> Prescription | None:
        """The order a prescriber knows by its placer number; with ``owner``, among that principal's only."""

    def prescription_by_correlation(self, correlation_id: str) -> Prescription | None:
        """The order with this correlation id (FHIR MedicationRequest ids are correlation ids)."""

    def patient(self, patient_id: str, owner: str | None = None) -> Patient | None:
        """A patient profile; with ``owner``, only when one of that principal's orders is theirs."""

    def refused_orders(self, correlation_id: str, owner: str | None = None) -> list[RefusedOrder]:
        """The refusals of the order with this correlation id, oldest first; with ``owner``, that principal's."""

    def orders_matching(self, criteria: OrderCriteria) -> list[Prescription]:
        """The prescriptions a search may match, oldest first (at most ``criteria.limit``)."""

    def patients_matching(self, criteria: PatientCriteria) -> list[Patient]:
        """The patient profiles a search may match, oldest first (at most ``criteria.limit``)."""
