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
        self._sink, self._inbound, self._queries = sink, inbound, queries
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
        sender = dedupe_sender(principal, claimed)
        earlier = await self._earlier(sender, msg.header.message_id)
        claim_id = None
        if earlier is None:  # new: take the MessageID first, so of two racing messages one wins
            claim_id = str(uuid.uuid4())
            earlier = await self._claim(raw, msg, sender, claim_id)
            claim_id = claim_id if earlier is None else None
        if earlier is not None and earlier.answer is None and self._resend_of(earlier, msg):
            earlier = await self._first_answer(sender, msg.header.message_id, earlier)  # its first copy in flight
        if earlier is not None and (earlier.answer is not None or not self._resend_of(earlier, msg)):
            return self._repeat(earlier, msg)
        try:
            return await self._take(raw, msg, command, principal, claimed, sender)
        except BaseException:
            if claim_id is not None:  # not accepted: the MessageID goes back, a corrected resend is read afresh
                await asyncio.to_thread(self._release, claim_id)
            raise

    async def _take(
        self, raw: bytes, msg: ScriptMessage, command: Command, principal: str, claimed: str, sender: str
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
                await self._record(raw, msg, sender, ANSWERED, answer, [])
                return DoorAnswer(answer, 200, "answered")
        if isinstance(command, RecordRenewalResponse):
            command = await self._resolve_renewal(msg, claimed, command, principal)
            envelope = self._envelope(msg, command, principal)
        if isinstance(command, CancelPrescription):
            # written before publishing: without it the CancelRxResponse owed later could not be built
            door, index_sender, control_id = command_index_key(envelope.message_id)
            await asyncio.to_thread(
                self._inbound.record,
                door=door,
                sender=index_sender,
                control_id=control_id,
                message_type=msg.kind,
                outcome=ACCEPTED,
                raw=raw,
                answer=None,
                command_ids=[str(envelope.message_id)],
            )
        await self._sink.publish_commands([envelope])
        if envelope.type == "ReceivePrescription":
            self._orders.accepted(principal, str(envelope.correlation_id), str(envelope.message_id))
        answer = status_response(msg.header, "010", message_id=self._answer_id(msg), now=self._clock())
        await self._record(raw, msg, sender, ACCEPTED, answer, [str(envelope.message_id)])
        log.info("SCRIPT %s accepted", msg.kind, extra={"control_id": msg.header.message_id})
        return DoorAnswer(answer, 200, "accepted")

    async def _earlier(self, sender: str, control_id: str) -> InboundRecord | None:
        try:
            return await asyncio.to_thread(self._inbound.find, DOOR, sender, control_id)
        except InfrastructureError as exc:
            # cannot check: go on; the command's derived id lets the worker drop a second copy
            log.warning("SCRIPT dedupe lookup failed: %s", exc, extra={"control_id": control_id})
            return None

    async def _claim(self, raw: bytes, msg: ScriptMessage, sender: str, claim_id: str) -> InboundRecord | None:
        try:
            return await asyncio.to_thread(
                self._inbound.claim,
                door=DOOR,
                sender=sender,
                raw=raw,
                control_id=msg.header.message_id,
                message_type=msg.kind,
                record_id=claim_id,
            )
        except InfrastructureError as exc:  # cannot check: go on, as when the lookup fails
            log.warning("SCRIPT dedupe claim failed: %s", exc, extra={"control_id": msg.header.message_id})
            return None

    async def _first_answer(self, sender: str, control_id: str, holder: InboundRecord) -> InboundRecord:
        """The answer of the copy still being accepted (here or by another instance) once it is recorded, so a
        resend gets the original; after a few seconds (a copy whose process died) it goes on without."""
        for _ in range(60):
            await asyncio.sleep(0.05)
            found = await self._earlier(sender, control_id)
            if found is None or found.answer is not None:
                return found or holder
        return holder

    def _release(self, claim_id: str) -> None:
        try:
            self._inbound.release(claim_id)
        except InfrastructureError as exc:
            log.warning("SCRIPT dedupe claim not released: %s", exc)

    @staticmethod
    def _resend_of(earlier: InboundRecord, msg: ScriptMessage) -> bool:
        return earlier.raw is None or _same_request(earlier.raw, msg)

    def _repeat(self, earlier: InboundRecord, msg: ScriptMessage) -> DoorAnswer:
        """A resend gets its first answer; other content under a used MessageID is refused."""
        if not self._resend_of(earlier, msg):
            text = f"MessageID {msg.header.message_id} was already used for another message"
            problem = Problem(code="900", text=text, location="Message/Header/MessageID")
            raise MessageContentError(text, [problem], control_id=msg.header.message_id)
        assert earlier.answer is not None
        log.info("SCRIPT resend answered again", extra={"control_id": msg.header.message_id})
        return DoorAnswer(earlier.answer, 200, "duplicate")

    async def _resolve_renewal(
        self, msg: ScriptMessage, sender: str, command: RecordRenewalResponse, principal: str
    ) -> RecordRenewalResponse:
        """Find the Rx number a renewal response is about when it does not echo RxReferenceNumber."""
        relates_to = msg.header.relates_to_message_id
        rx_number = command.rx_number
        if rx_number is None and relates_to is not None:
            request = await asyncio.to_thread(self._inbound.find, OUTBOUND_DOOR, sender, relates_to)
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

    async def _record(
        self, raw: bytes, msg: ScriptMessage, sender: str, outcome: str, answer: bytes, command_ids: list[str]
    ) -> None:
        try:
            await asyncio.to_thread(
                self._inbound.record,
                door=DOOR,
                sender=sender,
                control_id=msg.header.message_id,
                message_type=msg.kind,
                outcome=outcome,
                raw=raw,
                answer=answer,
                command_ids=command_ids,
            )
        except InfrastructureError as exc:
            # the answer stands: a resend is published again and dropped by the worker (derived ids)
            log.warning("SCRIPT dedupe record not written: %s", exc, extra={"control_id": msg.header.message_id})

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


def _same_request(stored_raw: bytes, msg: ScriptMessage) -> bool:
    """True for a resend: same header and body, whatever its SentTime (a resender may restamp it)."""
    try:
        stored = read_message(stored_raw)
    except InboundMessageError:
        return False
    return _unstamped(stored) == _unstamped(msg)


def _unstamped(msg: ScriptMessage) -> ScriptMessage:
    return msg.model_copy(update={"header": msg.header.model_copy(update={"sent_time": None})})
