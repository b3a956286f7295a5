"""Payer answers (D.0 response bytes) become ``RecordClaimResponse`` commands for the claim worker.

An answer we cannot read (bad syntax, no AM21 status, an unknown 112-AN letter, an unreadable amount) is
treated like no answer at all: status ``timeout``, not a rejection. We do not know what the payer decided,
and it may have paid, so the claim must take the status-unknown path (reverse, then resubmit once); a
made-up reject would leave a claim the payer may have paid standing open.

    payer connector ──▶ <prefix>.payer-responses ──▶ answer_envelope ──▶ claim-responses handlers
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from decimal import Decimal

from pika.spec import BasicProperties

from adapters.ncpdp.d0.claim_response import read_claim_response
from adapters.ncpdp.d0.content_errors import content_error
from adapters.ncpdp.d0.model import ResponseTransmission
from adapters.ncpdp.d0.parser import parse_response
from adapters.ncpdp.d0.response_segments import (
    ResponseDurSegment,
    ResponseMessageSegment,
    ResponseStatusSegment,
)
from adapters.ncpdp.d0.segment_view import view_of
from hub.domain.claim import PayerDurAlert
from hub.domain.claim_codes import SYNTAX_ERROR_CODE
from hub.domain.claim_exchange import PayerStatus
from hub.domain.commands import RecordClaimResponse
from hub.domain.order_parts import Frozen, Source
from hub.errors import MessageContentError
from hub.messaging.consumer import BatchHandler, ConsumerRunner, Handler
from hub.messaging.envelope import Envelope, derived_message_id
from hub.messaging.headers import ORDER_CORRELATION_HEADER
from hub.messaging.topology import PAYER_RESPONSES, Topology

log = logging.getLogger(__name__)

#: 112-AN letters a payer may answer per transaction (standards.md §4.3)
_STATUSES = {
    "B1": frozenset("PDRCQ"),
    "B3": frozenset("PDRCQ"),
    "B2": frozenset("ASR"),
    #: an eligibility check is accepted or rejected
    "E1": frozenset("AR"),
}


class ExchangeRef(Frozen):
    """The parts of an exchange id: ``<prescription id>:<fill number>:<attempt>:<transaction>``."""

    prescription_id: str
    fill_number: int
    attempt: int
    transaction: str

    @classmethod
    def parse(cls, exchange_id: str) -> ExchangeRef:
        """Split an exchange id; the prescription id may itself contain colons."""
        parts = exchange_id.rsplit(":", 3)
        if len(parts) != 4 or not parts[0] or parts[3] not in _STATUSES:
            text = f"exchange id {exchange_id!r} is not <rx id>:<fill>:<attempt>:<B1|B2|B3|E1>"
            raise MessageContentError(text)
        prescription_id, fill, attempt, transaction = parts
        if not (fill.isascii() and fill.isdigit() and attempt.isascii() and attempt.isdigit()):
            raise MessageContentError(f"exchange id {exchange_id!r} has a non-numeric fill or attempt")
        return cls(
            prescription_id=prescription_id, fill_number=int(fill), attempt=int(attempt), transaction=transaction
        )


class PayerAnswer(Frozen):
    """What the payer said about one transaction, in the command's terms."""

    status: str
    reject_codes: tuple[str, ...] = ()
    payer_message: str | None = None
    authorization_number: str | None = None
    total_paid: Decimal | None = None
    patient_pay: Decimal | None = None
    ingredient_cost_paid: Decimal | None = None
    dispensing_fee_paid: Decimal | None = None
    payer_dur: tuple[PayerDurAlert, ...] = ()


def response_to_command(body: bytes, exchange_id: str) -> RecordClaimResponse:
    """The command for a payer answer; unreadable answers become status ``timeout`` (see module doc).

    Raises MessageContentError only for a malformed ``exchange_id``: then nobody can apply the answer.
    """
    ref = ExchangeRef.parse(exchange_id)
    try:
        answer = read_answer(body, ref.transaction)
    except MessageContentError as exc:
        # codes and locations only: a problem's text may quote field values (names in AM29)
        where = [f"{p.code}@{p.location or '?'}" for p in exc.problems]
        log.warning("unreadable payer answer for %s treated as no answer: %s", exchange_id, where)
        answer = PayerAnswer(status=PayerStatus.NO_ANSWER.value)
    return RecordClaimResponse(
        exchange_id=exchange_id,
        prescription_id=ref.prescription_id,
        fill_number=ref.fill_number,
        attempt=ref.attempt,
        transaction=ref.transaction,
        **answer.model_dump(),
    )


def read_answer(body: bytes, transaction: str) -> PayerAnswer:
    """The first transaction's answer (the hub sends one claim per transmission)."""
    transmission = parse_response(body)
    if transmission.header.header_response_status == "R":
        return _transmission_rejected(transmission)
    response = read_claim_response(transmission)
    answer = response.transactions[0]
    status = answer.status
    if status.transaction_status not in _STATUSES[transaction]:
        text = f"112-AN {status.transaction_status!r} is not an answer to a {transaction}"
        raise content_error(SYNTAX_ERROR_CODE, text, "AN")
    pricing = answer.pricing
    return PayerAnswer(
        status=status.transaction_status,
        reject_codes=status.reject_codes,
        payer_message=_message(response.message, status),
        authorization_number=status.authorization_number,
        total_paid=pricing.total_paid if pricing else None,
        patient_pay=pricing.patient_pay if pricing else None,
        ingredient_cost_paid=pricing.ingredient_cost_paid if pricing else None,
        dispensing_fee_paid=pricing.dispensing_fee_paid if pricing else None,
        payer_dur=_payer_dur(answer.dur),
    )


def _payer_dur(segment: ResponseDurSegment | None) -> tuple[PayerDurAlert, ...]:
    """AM24 sets as the hub's payer alerts (the counter is wire bookkeeping and is dropped)."""
    if segment is None:
        return ()
    return tuple(PayerDurAlert(**entry.model_dump(exclude={"counter"})) for entry in segment.entries)


def _transmission_rejected(transmission: ResponseTransmission) -> PayerAnswer:
    """501-F1 = R: the whole transmission was refused; its reasons sit in the groups' AM21, if any."""
    statuses = [s for g in transmission.groups if (s := view_of(ResponseStatusSegment, g.segment("21"))) is not None]
    codes = dict.fromkeys(code for s in statuses for code in s.reject_codes)
    header_text = view_of(ResponseMessageSegment, transmission.segment("20"))
    lines = [header_text.message if header_text else None]
    lines += [line for s in statuses for line in s.message_lines]
    return PayerAnswer(status=PayerStatus.REJECTED.value, reject_codes=tuple(codes), payer_message=_joined(lines))


def _message(header_text: str | None, status: ResponseStatusSegment) -> str | None:
    """AM20 504-F4 then the AM21 526-FQ lines, one per line."""
    return _joined([header_text, *status.message_lines])


def _joined(lines: list[str | None]) -> str | None:
    kept = [line.strip() for line in lines if line and line.strip()]
    return "\n".join(kept) or None


def answer_envelope(body: bytes, props: BasicProperties) -> Envelope:
    """The ``RecordClaimResponse`` envelope a payer answer stands for (a ``ConsumerRunner`` decode).

    A redelivered answer yields the same message id, which the claim worker dedupes on.
    MessageContentError (dead letter) when no claim can be tied to the answer.
    """
    if not props.correlation_id:
        raise MessageContentError("payer answer without correlation_id: it names no claim exchange")
    command = response_to_command(body, props.correlation_id)
    log.info("payer answered %s: %s %s", command.exchange_id, command.status, ",".join(command.reject_codes))
    return Envelope.wrap(
        command,
        correlation_id=_order_correlation(props),
        source=Source.HUB,
        message_id=derived_message_id("payer-response", _answer_id(body, props)),
        causation_id=_uuid_or_none(props.message_id),
    )


def payer_response_runner(
    amqp_url: str,
    topology: Topology,
    *,
    handler: Handler,
    batch_handler: BatchHandler | None = None,
    max_batch: int = 16,
    prefetch: int = 32,
    max_retries: int = 3,
    linger_s: float = 0.0,
) -> ConsumerRunner:
    """A runner on the payer-responses queue handing each answer's command straight to the claim-responses
    handlers (``hub.service.bus.MessageBus``), which apply it and ack the answer in the same step: the answer
    is not republished as a command to another queue first (one broker round trip and one queue less per
    claim, and the answer is acked only once its effects are committed)."""
    return ConsumerRunner(
        amqp_url=amqp_url,
        topology=topology,
        step=PAYER_RESPONSES,
        handler=handler,
        batch_handler=batch_handler,
        decode=answer_envelope,
        max_batch=max_batch,
        queue=topology.payer_responses_queue,
        prefetch=prefetch,
        max_retries=max_retries,
        linger_s=linger_s,
    )


def _order_correlation(props: BasicProperties) -> uuid.UUID:
    raw = (props.headers or {}).get(ORDER_CORRELATION_HEADER)
    text = raw.decode("ascii", "replace") if isinstance(raw, bytes) else raw
    found = _uuid_or_none(text if isinstance(text, str) else None)
    if found is None:
        # the command must carry its order's correlation id, and only the echoed header knows it
        text = f"payer answer for {props.correlation_id} lacks a uuid in {ORDER_CORRELATION_HEADER}"
        raise MessageContentError(text)
    return found


def _answer_id(body: bytes, props: BasicProperties) -> str:
    """The answer's own message id; without one, its content, so a redelivery still maps to one id."""
    if props.message_id:
        return str(props.message_id)
    return f"{props.correlation_id}|{hashlib.sha256(body).hexdigest()}"


def _uuid_or_none(text: str | None) -> uuid.UUID | None:
    try:
        return uuid.UUID(text) if text else None
    except ValueError:
        return None
