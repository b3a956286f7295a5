"""What the SCRIPT door does with one request: read, dedupe, decide, publish durably, then answer.

The answer promise (transport.xsd Status 010 = accepted by the ultimate receiver): Status 010 is sent
only after the broker confirmed the command. Answers, and when each is stored for resends:

    Status 010                 command published                                  stored
    CancelRxResponse Denied    the fill was already dispensed: nothing published  stored
    CancelRxResponse Approved  the order was already closed: nothing published    stored
    Error 900                  bad or unaccepted message                          refusal log
    Error 601                  broker or database down: resend later; or a From   refusal log
                               the token's feed may not use (HTTP 403)
    Error 602                  unexpected failure in the hub                      refusal log
    (no body)                  a Status/Error/Verify sent to us: never answered   not stored

Only answers the hub stands by are stored for resends, so a corrected message resent under the same
MessageID is read afresh; a resend of a stored one gets the first answer again and publishes nothing. Every
Error goes to the refusal log (``hub.service.ports.RefusalLog``: the message search and the audit trail). A later
CancelRxResponse Approved, for a cancel that was published, comes from ``outbound_responder``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from adapters.ncpdp.script.answers import describe, error_code_for, error_response, status_response
from adapters.ncpdp.script.cancel_decision import answer_now
from adapters.ncpdp.script.codes import ACKNOWLEDGEMENT_KINDS
from adapters.ncpdp.script.door_records import (
    ACCEPTED,
    ANSWERED,
    DOOR,
    OUTBOUND_DOOR,
    answer_message_id,
    command_index_key,
)
from adapters.ncpdp.script.mapping import to_command
from adapters.ncpdp.script.message import ScriptHeader, ScriptMessage, command_message_id, placer_system, read_message
from adapters.ncpdp.script.safe_xml import DEFAULT_MAX_BYTES
from hub.domain.commands import CancelPrescription, Command, RecordRenewalResponse
from hub.domain.order_parts import Source
from hub.errors import InboundMessageError, InfrastructureError, MessageContentError, Problem, SenderRefused
from hub.messaging.envelope import Envelope, derived_message_id, order_correlation_id, utcnow
from hub.security.principals import SCRIPT, BindingsSource, dedupe_sender
from hub.service.door_pipeline import DoorPipeline, Seen, Verdict
from hub.service.inbound_entry import InboundEntry
from hub.service.log_journal import LogJournal
from hub.service.ports import (
    CommandSink,
    InboundLog,
    InboundRecord,
    OrderIndex,
    PrescriptionQueries,
    RefusalLog,
    RefusedMessage,
)

log = logging.getLogger(__name__)

#: HTTP status per SCRIPT Error code: a protocol refusal is a normal answer (200); "resend later" is 503
HTTP_STATUS_FOR_ERROR = {"900": 200, "601": 503, "602": 500}
_UNAVAILABLE = "the pharmacy cannot take this message now; resend it later"
_SYSTEM_ERROR = "the pharmacy system failed to process this message"
#: Header/MessageID found in bytes the XML parser refused, for the record of the refusal only
_MESSAGE_ID = re.compile(rb"<(?:[\w.-]+:)?MessageID>\s*([^<\s]{1,35})\s*</")


@dataclass(frozen=True)
class DoorAnswer:
    """The SCRIPT answer to send back (None: nothing to say), its HTTP status, and what happened."""

    body: bytes | None
    http_status: int
    #: accepted, duplicate, answered, rejected, refused, unavailable, failed, acknowledgement
    outcome: str
    #: the Error's code and why it was answered (its Description); empty for every other answer
    error_code: str = ""
    reason: str = ""


class ScriptDoor:
    """Turns one SCRIPT request into durable commands and the answer they earn; never raises."""

    def __init__(
        self,
        sink: CommandSink,
        inbound: InboundLog,
        queries: PrescriptionQueries,
        *,
        feeds: BindingsSource,
        orders: OrderIndex,
        refusals: RefusalLog,
        clock: Callable[[], datetime] = utcnow,
        max_bytes: int = DEFAULT_MAX_BYTES,
    ) -> None:
        self._queries = queries
        self._journal = LogJournal(inbound)
        self._pipeline = DoorPipeline(self._journal, sink)
        self._feeds, self._orders, self._refusals = feeds, orders, refusals
        self._clock, self._max_bytes = clock, max_bytes

    async def handle(self, raw: bytes, principal: str) -> DoorAnswer:
        """Every failure becomes the Error it deserves, recorded as a refusal; ``principal`` is who the bearer
        token speaks for."""
        header: ScriptHeader | None = None
        kind = ""
        try:
            msg = read_message(raw, max_bytes=self._max_bytes)
            header, kind = msg.header, msg.kind
            if msg.kind in ACKNOWLEDGEMENT_KINDS:
                log.info(
                    "SCRIPT %s received on the request door; not answered",
                    msg.kind,
                    extra={"control_id": header.message_id},
                )
                return DoorAnswer(None, 204, "acknowledgement")
            bindings = await self._feeds.bindings()
            bindings.check_claim(principal, SCRIPT, placer_system(header) or "", "Message/Header/From")
            return await self._accept(raw, msg, to_command(msg), principal)
        except SenderRefused as exc:
            answer = self._refuse_sender(header, exc)
        except Exception as exc:  # the sender always gets an answer; a hub bug is a 602, not a dropped request
            if header is None and isinstance(exc, InboundMessageError) and exc.control_id:
                header = ScriptHeader(message_id=exc.control_id)  # read before the rest was refused
            answer = self._error(header, exc)
        self._record_refusal(answer, raw, header, kind, principal)
        return answer

    def _refuse_sender(self, header: ScriptHeader | None, exc: SenderRefused) -> DoorAnswer:
        """Error 601 (the receiver will not process it) with HTTP 403 (recorded under the token's principal)."""
        control = header.message_id if header is not None else "unknown"
        body = error_response(
            header,
            "601",
            None,
            describe(exc),
            message_id=answer_message_id("error", control, self._clock().isoformat()),
            now=self._clock(),
        )
        return DoorAnswer(body, 403, "refused", "601", describe(exc))

    def error_for(self, header: ScriptHeader | None, exc: BaseException, *, principal: str) -> DoorAnswer:
        """The Error answer for a failure, recorded as a refusal (the route uses it for refusals before the
        body is read)."""
        answer = self._error(header, exc)
        self._record_refusal(answer, b"", header, "", principal)
        return answer

    def _record_refusal(
        self, answer: DoorAnswer, raw: bytes, header: ScriptHeader | None, kind: str, principal: str
    ) -> None:
        """An Error goes to the refusal log, under the principal (a token: its own budget)."""
        if not answer.error_code:
            return
        self._refusals.record_later(
            RefusedMessage(
                door=DOOR,
                actor=principal,
                claimed_sender=placer_system(header) if header else None,
                control_id=header.message_id if header else _scanned_message_id(raw),
                message_type=kind,
                answer_code=answer.error_code,
                outcome="error" if answer.error_code == "900" else "refused",
                reason=answer.reason,
                answer=answer.body,
                raw=raw,
                budget_key=principal,
            )
        )

    async def _accept(self, raw: bytes, msg: ScriptMessage, command: Command, principal: str) -> DoorAnswer:
        claimed = placer_system(msg.header) or ""
        entry = InboundEntry(
            DOOR, dedupe_sender(principal, claimed), msg.header.message_id, msg.kind, raw, record_id=str(uuid.uuid4())
        )
        verdict = await self._pipeline.dedupe(entry, lambda earlier: _resend_of(earlier, msg))
        if verdict.seen is Seen.REUSED:
            text = f"MessageID {msg.header.message_id} was already used for another message"
            problem = Problem(code="900", text=text, location="Message/Header/MessageID")
            raise MessageContentError(text, [problem], control_id=msg.header.message_id)
        if verdict.seen is Seen.RESEND and verdict.holder is not None and verdict.holder.answer is not None:
            log.info("SCRIPT resend answered again", extra={"control_id": msg.header.message_id})
            return DoorAnswer(verdict.holder.answer, 200, "duplicate")
        try:
            return await self._take(msg, command, principal, claimed, entry, verdict)
        except BaseException:
            # not accepted: the MessageID goes back (before the Error is sent), a corrected resend is read afresh
            self._pipeline.release(entry, verdict)
            await self._pipeline.drain()
            raise

    async def _take(
        self, msg: ScriptMessage, command: Command, principal: str, claimed: str, entry: InboundEntry, verdict: Verdict
    ) -> DoorAnswer:
        envelope = self._envelope(msg, command, principal)
        if isinstance(command, CancelPrescription):
            # the order is looked up among this sender's own: another feed's CancelRx names no order
            correlation = str(envelope.correlation_id)
            rx = await asyncio.to_thread(self._queries.prescription_by_correlation, correlation)
            if rx is None and not await self._orders.known(principal, correlation):
                text = f"no order of this sender has prescriber order number {command.placer_order_number}"
                raise MessageContentError(
                    text,
                    [Problem("900", text, "Message/Body/CancelRx/MedicationPrescribed")],
                    control_id=msg.header.message_id,
                )
            answer = answer_now(msg, rx, message_id=self._answer_id(msg), now=self._clock())
            if answer is not None:
                await self._record(entry.answered(ANSWERED, answer, []))
                return DoorAnswer(answer, 200, "answered")
        if isinstance(command, RecordRenewalResponse):
            command = await self._resolve_renewal(msg, claimed, command, principal)
            envelope = self._envelope(msg, command, principal)
        if isinstance(command, CancelPrescription):
            # written before publishing: without it the CancelRxResponse owed later could not be built
            door, index_sender, control_id = command_index_key(envelope.message_id)
            index = InboundEntry(door, index_sender, control_id, msg.kind, entry.raw, ACCEPTED, None)
            await asyncio.wrap_future(
                self._journal.record_later(index.answered(ACCEPTED, None, [str(envelope.message_id)]))
            )
        await self._pipeline.publish([envelope], (entry, verdict))
        if envelope.type == "ReceivePrescription":
            self._orders.accepted(principal, str(envelope.correlation_id), str(envelope.message_id))
        answer = status_response(msg.header, "010", message_id=self._answer_id(msg), now=self._clock())
        await self._record(entry.answered(ACCEPTED, answer, [str(envelope.message_id)]))
        log.info("SCRIPT %s accepted", msg.kind, extra={"control_id": msg.header.message_id})
        return DoorAnswer(answer, 200, "accepted")

    async def _resolve_renewal(
        self, msg: ScriptMessage, sender: str, command: RecordRenewalResponse, principal: str
    ) -> RecordRenewalResponse:
        """Find the Rx number a renewal response is about when it does not echo RxReferenceNumber."""
        relates_to = msg.header.relates_to_message_id
        rx_number = command.rx_number
        if rx_number is None and relates_to is not None:
            request = await self._journal.find(OUTBOUND_DOOR, sender, relates_to)
            if request is not None and request.raw is not None:
                rx_number = read_message(request.raw).header.rx_reference_number
        if rx_number is None and command.placer_order_number is not None:
            rx = await asyncio.to_thread(
                self._queries.prescription_by_placer, command.placer_system, command.placer_order_number, principal
            )
            rx_number = rx.rx_number if rx is not None else None
        return command.model_copy(update={"rx_number": rx_number, "relates_to_message_id": relates_to})

    def _envelope(self, msg: ScriptMessage, command: Command, principal: str) -> Envelope:
        placer_number = getattr(command, "placer_order_number", None) or msg.header.message_id
        return Envelope.wrap(
            command,
            correlation_id=order_correlation_id(
                getattr(command, "placer_system", None), placer_number, owner=principal
            ),
            source=Source.SCRIPT,
            # the same on every resend of this sender's message, and never another principal's
            message_id=derived_message_id(command_message_id(msg), principal),
            principal=principal,
        )

    async def _record(self, entry: InboundEntry) -> None:
        """The answer stored for resends before it is sent; a failure to write is logged by the pipeline and the
        answer stands (a resend is published again and dropped by the worker: derived ids)."""
        with contextlib.suppress(InfrastructureError):
            await asyncio.wrap_future(self._pipeline.record(entry))

    def _answer_id(self, msg: ScriptMessage) -> str:
        return answer_message_id("answer", placer_system(msg.header) or "", msg.header.message_id)

    def _error(self, header: ScriptHeader | None, exc: BaseException) -> DoorAnswer:
        code = error_code_for(exc)
        if isinstance(exc, InboundMessageError):
            description, outcome = describe(exc), "rejected"
            if header is None and exc.control_id:
                header = ScriptHeader(message_id=exc.control_id)
        elif code == "601":
            description, outcome = _UNAVAILABLE, "unavailable"
            log.warning("SCRIPT request not stored: %s", exc)
        else:
            description, outcome = _SYSTEM_ERROR, "failed"
            log.error("SCRIPT request failed", exc_info=exc)
        control = header.message_id if header is not None else "unknown"
        body = error_response(
            header,
            code,
            None,
            description,
            message_id=answer_message_id("error", control, self._clock().isoformat()),
            now=self._clock(),
        )
        return DoorAnswer(body, HTTP_STATUS_FOR_ERROR.get(code, 500), outcome, code, description)


def _scanned_message_id(raw: bytes) -> str:
    """The MessageID of a body too broken to parse, when its bytes still show one (else empty)."""
    found = _MESSAGE_ID.search(raw[:4096])
    return found.group(1).decode("utf-8", "replace") if found else ""


def _resend_of(earlier: InboundRecord, msg: ScriptMessage) -> bool:
    """A resend: the same request as the one stored under its MessageID (its body purged: taken as one)."""
    return earlier.raw is None or _same_request(earlier.raw, msg)


def _same_request(stored_raw: bytes, msg: ScriptMessage) -> bool:
    """True for a resend: same header and body, whatever its SentTime (a resender may restamp it)."""
    try:
        stored = read_message(stored_raw)
    except InboundMessageError:
        return False
    return _unstamped(stored) == _unstamped(msg)


def _unstamped(msg: ScriptMessage) -> ScriptMessage:
    return msg.model_copy(update={"header": msg.header.model_copy(update={"sent_time": None})})
