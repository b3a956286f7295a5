"""What the MLLP listener does with one message: parse, check, dedupe, publish durably, then ACK.

The ACK promise: AA/CA is sent only after the broker confirmed every command of the message.  If the
broker refuses or cannot be reached the sender gets AR/CR (0357 code 207) and resends later.  A resend
(same MSH-3/4 + MSH-10) gets its first ACK again; its commands carry derived ids, so even a resend that
slips past the dedupe record (database down) is applied once by the workers.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections.abc import Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import UTC, datetime

from adapters.hl7.acks import AckMode, application_ack_wanted, build_ack, commit_ack_wanted
from adapters.hl7.batch import BatchFile, is_batch, read_batch
from adapters.hl7.batch_acks import batch_ack
from adapters.hl7.mapping import to_commands
from adapters.hl7.message_model import Hl7Header, ParsedHl7
from adapters.hl7.mllp_framing import FrameTooLarge
from adapters.hl7.parsing import parse_message
from adapters.hl7.unstorable_fields import refuse_unstorable
from adapters.hl7.validation import validate_header
from hub.domain.commands import CancelPrescription, Command, ReceivePrescription
from hub.domain.order_parts import ReplyTo, Source
from hub.errors import (
    InboundMessageError,
    InfrastructureError,
    MessageContentError,
    Problem,
    SenderRefused,
    UnsupportedMessageError,
)
from hub.messaging.envelope import Envelope, derived_message_id, order_correlation_id
from hub.observability.metrics import ACK_SECONDS, count_message
from hub.security.principals import BindingsSource, Peer, dedupe_sender
from hub.service.ports import CommandSink, DedupeJournal, InboundRecord, OrderIndex, RefusalLog, RefusedMessage

log = logging.getLogger(__name__)
DOOR = "hl7"


@dataclass(frozen=True)
class AckIdentity:
    """Who the hub says it is in its ACKs, and which processing ids it takes."""

    sending_application: str = "RXHUB"
    sending_facility: str = "PHARMACY"
    processing_ids: tuple[str, ...] = ("P", "T", "D")
    #: MSH-11 assumed when a peer leaves it empty; None keeps it required (AE 101)
    default_processing_id: str | None = None


#: how long a resend waits for the answer of its first copy still being accepted (by this or another instance)
FIRST_ANSWER_WAIT_S = 3.0


def fingerprint(raw: bytes) -> str:
    """Content identity of a message for resend detection: line ends normalised, MSH-7 ignored.

    Some engines stamp a new MSH-7 on a resend; everything else of a true resend is identical.
    """
    text = raw.lstrip(b"\xef\xbb\xbf").replace(b"\r\n", b"\r").replace(b"\n", b"\r").strip(b"\r")
    segments = text.split(b"\r")
    if segments and segments[0].startswith(b"MSH") and len(segments[0]) > 4:
        fields = segments[0].split(segments[0][3:4])
        if len(fields) > 6:
            fields[6] = b""
        segments[0] = segments[0][3:4].join(fields)
    return hashlib.sha256(b"\r".join(s for s in segments if s)).hexdigest()


def sender_of(header: Hl7Header) -> str:
    """The dedupe key's sender: MSH-3 and MSH-4."""
    return f"{header.sending_application}|{header.sending_facility}"


def _retrieved(lookup: asyncio.Future[InboundRecord | None]) -> None:
    if not lookup.cancelled():
        lookup.exception()


class Hl7MessageHandler:
    """Turns one MLLP payload into durable commands and the ACK they earn."""

    def __init__(
        self,
        sink: CommandSink,
        inbound: DedupeJournal,
        identity: AckIdentity,
        *,
        feeds: BindingsSource,
        orders: OrderIndex,
        refusals: RefusalLog,
    ) -> None:
        self._sink = sink
        self._inbound = inbound
        self._identity = identity
        self._feeds, self._orders, self._refusals = feeds, orders, refusals
        self._ack_counter = 0
        self.counts: dict[str, int] = {}

    async def __call__(self, raw: bytes, peer: Peer) -> bytes | None:
        """Never raises: every failure becomes the ACK it deserves."""
        started = time.perf_counter()
        try:
            return await (self._batch(raw, peer) if is_batch(raw) else self._handle(raw, peer))
        finally:
            ACK_SECONDS.labels(DOOR).observe(time.perf_counter() - started)

    async def _handle(self, raw: bytes, peer: Peer, *, always: bool = False) -> bytes | None:
        """One message's ACK; None when MSH-15 wants none, unless ``always`` (a batch answers every message)."""
        header: Hl7Header | None = None
        principal: str | None = None
        try:
            bindings = await self._feeds.bindings()
        except InfrastructureError as exc:
            log.warning("feed bindings unavailable, answering reject: %s", exc)
            return self._reject(
                None,
                InboundMessageError(
                    "cannot check the sender now",
                    [Problem("207", "sender cannot be checked now; resend later")],
                    control_id=_control_id(raw),
                ),
                "AR",
                peer,
                raw=raw,
                outcome="not_stored",
            )
        try:
            parsed = parse_message(raw)
            header = parsed.header
            principal = bindings.mllp_principal(peer, sender_of(header))
            refuse_unstorable(parsed)  # before the lookup: PostgreSQL refuses a NUL even as a query's key
            lookup = self._look_up(principal, header)  # the dedupe lookup runs while the message is checked
            validate_header(
                header,
                processing_ids=self._identity.processing_ids,
                default_processing_id=self._identity.default_processing_id,
            )
            commands = to_commands(parsed)
        except SenderRefused as exc:
            return self._reject(header, exc, "AR", peer, raw=raw, always=always, outcome="refused")
        except UnsupportedMessageError as exc:
            return self._reject(header, exc, "AR", peer, raw=raw, principal=principal, always=always)
        except InboundMessageError as exc:
            return self._reject(header, exc, "AE", peer, raw=raw, principal=principal, always=always)
        except Exception:  # a parser bug must not cost the connection: AR 207 and the sender resends
            log.exception("unexpected error handling an HL7 message")
            internal = InboundMessageError("internal error", [Problem("207", "application internal error")])
            return self._reject(
                header, internal, "AR", peer, raw=raw, principal=principal, always=always, outcome="errors"
            )
        return await self._accept(raw, parsed, commands, lookup, principal, peer, always=always)

    async def _batch(self, raw: bytes, peer: Peer) -> bytes:
        """An FHS/BHS batch (adapters.hl7.batch): each message takes the path a lone one takes, one by one (a
        cancel may name an order earlier in the batch), and one batch acknowledgement lists every answer."""
        request = read_batch(raw)
        answers: list[list[bytes]] = []
        for part in request.batches:
            if request.problems:
                acks = [self._refuse_in_batch(m, request, peer) for m in part.messages]
            else:
                acks = [await self._handle(m, peer, always=True) for m in part.messages]
            answers.append([ack for ack in acks if ack is not None])
        if request.problems and not request.messages:  # a refusal says so even with no message to name
            answers.append([ack for ack in [self._refuse_in_batch(b"", request, peer)] if ack is not None])
        self._ack_counter += 1
        return batch_ack(
            request,
            answers,
            sending_application=self._identity.sending_application,
            sending_facility=self._identity.sending_facility,
            control_id=f"{datetime.now(UTC):%y%m%d%H%M%S}{self._ack_counter % 10000:04d}",
        )

    def _refuse_in_batch(self, raw: bytes, request: BatchFile, peer: Peer) -> bytes | None:
        """AE (CE) for a message of a refused envelope: none of the batch is taken, so it can be resent whole."""
        try:
            header: Hl7Header | None = parse_message(raw).header
        except InboundMessageError:
            header = Hl7Header(control_id=_control_id(raw)) if raw else None
        error = MessageContentError(
            f"nothing in this batch was taken: {request.problems[0].text}", list(request.problems)
        )
        return self._reject(header, error, "AE", peer, raw=raw, always=True)

    def _look_up(self, principal: str, header: Hl7Header) -> asyncio.Future[InboundRecord | None]:
        sender = dedupe_sender(principal, sender_of(header))
        lookup = asyncio.ensure_future(self._inbound.find(DOOR, sender, header.control_id))
        lookup.add_done_callback(_retrieved)  # a refused message never awaits its lookup
        return lookup

    @staticmethod
    def _recorded(done: Future[str]) -> None:
        if not done.cancelled() and done.exception() is not None:
            log.warning("dedupe record not written: %s", done.exception())

    async def drain(self) -> None:
        """Wait for dedupe records still being written (at shutdown)."""
        await self._inbound.drain()

    def refuse_oversize(self, error: FrameTooLarge, peer: Peer) -> bytes:
        """AR for a frame refused by size (its bytes are gone, so MSA-2 is unknown), kept in the refusal log
        under what the connection proved, like every refusal."""
        ack = self._refuse(None, "AR", error.problems, str(error), b"", peer, None)
        assert ack is not None  # sent: nothing else is owed for a frame nobody could read
        return ack

    async def _accept(
        self,
        raw: bytes,
        parsed: ParsedHl7,
        commands: list[Command],
        lookup: asyncio.Future[InboundRecord | None],
        principal: str,
        peer: Peer,
        *,
        always: bool = False,
    ) -> bytes | None:
        header = parsed.header
        sender = dedupe_sender(principal, sender_of(header))
        mode = AckMode.of(header)
        record_id = str(derived_message_id(DOOR, "inbound", sender, header.control_id))
        try:
            earlier = await lookup
            claimed = earlier is None
            if earlier is None:  # new: take the key in the database first, so of two racing messages one wins
                earlier = await self._inbound.claim(
                    door=DOOR,
                    sender=sender,
                    control_id=header.control_id,
                    raw=raw,
                    record_id=record_id,
                    message_type=f"{header.message_type}^{header.trigger_event}",
                )
                claimed = earlier is None
        except InfrastructureError:
            earlier, claimed = None, False  # cannot check: publish anyway, derived ids keep it harmless
        if earlier is not None and earlier.raw is not None and fingerprint(earlier.raw) != fingerprint(raw):
            # same sender and MSH-10 but other content: not a resend, and not ours to guess which is right
            self._count("rejected")
            problem = Problem(
                "205", f"control id {header.control_id} was already used for another message", location="MSH^1^10"
            )
            return self._refuse(header, mode.reject, [problem], problem.text, raw, peer, principal)
        if earlier is not None and earlier.answer is None:  # the same message, its first copy still in flight
            earlier = await self._first_answer(sender, header.control_id, earlier)
        if earlier is not None and earlier.answer is not None:
            self._count("duplicate")
            log.info("resent HL7 message acknowledged again", extra={"control_id": header.control_id})
            return earlier.answer if always or commit_ack_wanted(header, success=True) else None
        # an identical message whose first copy is still being published (or whose process died) goes on: ids
        # from sender, MSH-10 *and* content map a true resend to the same commands, while another message
        # under a reused control id can never be mistaken for one
        key = f"{header.control_id}|{fingerprint(raw)}"
        # MSH-16 AL/SU: an RRE AA once recorded; AL/ER: an application reject should intake refuse the order
        if application_ack_wanted(header, success=True) or application_ack_wanted(header, success=False):
            reply = ReplyTo(
                control_id=header.control_id,
                message_type=header.message_type,
                trigger_event=header.trigger_event,
                version=header.version,
                application_ack_type=header.application_ack_type,
            )
            commands = [
                c.model_copy(update={"reply": reply}) if isinstance(c, ReceivePrescription) else c for c in commands
            ]
        envelopes = [self._envelope(c, sender, key, i, record_id, principal) for i, c in enumerate(commands)]
        stored, refusal = await self._publish(raw, header, mode, envelopes, principal, peer)
        if not stored:  # nothing published: the key goes back, a corrected resend is read afresh
            if claimed:
                self._inbound.release(DOOR, sender, header.control_id)
            return refusal
        ack = self._ack(header, mode.accept, [])
        # the answer is recorded beside the ACK, not before it: the commands are already durable and carry
        # derived ids, so a resend that arrives before the answer is written is still applied only once
        self._inbound.record_later(
            door=DOOR,
            sender=sender,
            control_id=header.control_id,
            message_type=f"{header.message_type}^{header.trigger_event}",
            outcome=mode.accept,
            raw=raw,
            answer=ack,
            command_ids=[str(e.message_id) for e in envelopes],
            record_id=record_id,
        ).add_done_callback(self._recorded)
        for envelope in envelopes:
            if envelope.type == ReceivePrescription.name:
                self._orders.accepted(principal, str(envelope.correlation_id), str(envelope.message_id))
        self._count("accepted")
        return ack if always or commit_ack_wanted(header, success=True) else None

    async def _first_answer(self, sender: str, control_id: str, holder: InboundRecord) -> InboundRecord:
        """The answer of the copy in flight once it is recorded (another instance may hold it), so a resend
        gets the original; after ``FIRST_ANSWER_WAIT_S`` (a copy whose process died) it goes on without."""
        deadline = time.monotonic() + FIRST_ANSWER_WAIT_S
        while time.monotonic() < deadline:
            await asyncio.sleep(0.05)
            try:
                found = await self._inbound.find(DOOR, sender, control_id)
            except InfrastructureError:
                return holder
            if found is None or found.answer is not None:
                return found or holder
        return holder

    async def _publish(
        self, raw: bytes, header: Hl7Header, mode: AckMode, envelopes: list[Envelope], principal: str, peer: Peer
    ) -> tuple[bool, bytes | None]:
        """Check the orders the message names, then publish its commands: (stored, the refusal's ACK if not)."""
        try:
            unknown = await self._unknown_orders(principal, envelopes)
        except InfrastructureError as exc:
            self._count("not_stored")
            log.warning(
                "orders cannot be looked up, answering reject: %s", exc, extra={"control_id": header.control_id}
            )
            problem = Problem("207", "message could not be checked now; resend later")
            return False, self._refuse(header, mode.reject, [problem], problem.text, raw, peer, principal)
        if unknown:
            self._count("rejected")
            return False, self._refuse(header, mode.error, unknown, unknown[0].text, raw, peer, principal)
        try:
            await self._sink.publish_commands(envelopes)
        except InfrastructureError as exc:
            self._count("not_stored")
            log.warning("commands not stored, answering reject: %s", exc, extra={"control_id": header.control_id})
            problem = Problem("207", "message could not be stored now; resend later")
            return False, self._refuse(header, mode.reject, [problem], problem.text, raw, peer, principal)
        return True, None

    async def _unknown_orders(self, principal: str, envelopes: list[Envelope]) -> list[Problem]:
        """A cancel or discontinue of an order this principal never sent is refused (AE 204), never
        published: the order is looked up within the sender's own orders only."""
        problems = []
        for index, envelope in enumerate(envelopes):
            if envelope.type != CancelPrescription.name:
                continue
            ours = {str(e.correlation_id) for e in envelopes[:index] if e.type == ReceivePrescription.name}
            correlation = str(envelope.correlation_id)
            if correlation in ours or await self._orders.known(principal, correlation):
                continue
            number = envelope.payload.get("placer_order_number")
            problems.append(
                Problem(
                    "204",
                    f"unknown order {number}: no order of this sender has that placer number",
                    location=f"ORC^{index + 1}^2",
                )
            )
        return problems

    def _envelope(
        self, command: Command, sender: str, key: str, index: int, record_id: str, principal: str
    ) -> Envelope:
        command = command.model_copy(update={"raw_message_ref": f"{DOOR}:{record_id}"})
        placer_system = getattr(command, "placer_system", None)
        placer_number = getattr(command, "placer_order_number", None) or key
        return Envelope.wrap(
            command,
            correlation_id=order_correlation_id(placer_system, placer_number, owner=principal),
            source=Source.HL7,
            message_id=derived_message_id(DOOR, sender, key, index),
            principal=principal,
        )

    def _reject(
        self,
        header: Hl7Header | None,
        exc: InboundMessageError,
        original: str,
        peer: Peer,
        *,
        raw: bytes,
        principal: str | None = None,
        always: bool = False,
        outcome: str = "rejected",
    ) -> bytes | None:
        self._count(outcome)  # AR and AE alike: the message was refused (metrics.OUTCOMES)
        log.info(
            "HL7 message refused (%s): %s",
            original,
            exc.problems[0].code,
            extra={"control_id": header.control_id if header else exc.control_id},
        )
        if header is None and exc.control_id:
            header = Hl7Header(control_id=exc.control_id)
        mode = AckMode.of(header) if header else AckMode.ORIGINAL
        code = mode.reject if original == "AR" else mode.error
        send = header is None or always or commit_ack_wanted(header, success=False)
        return self._refuse(header, code, exc.problems, str(exc), raw, peer, principal, send=send)

    def _refuse(
        self,
        header: Hl7Header | None,
        code: str,
        problems: Sequence[Problem],
        text: str,
        raw: bytes,
        peer: Peer,
        principal: str | None,
        *,
        send: bool = True,
    ) -> bytes | None:
        """The refusal's ACK (None unless ``send``), kept in the refusal log with the message. Its actor is the
        principal, else what the connection proved; a sender that is only what it claims (``hl7:``, or not
        read yet) spends its address's budget, so changing MSH-3/4 buys no more records."""
        ack = self._ack(header, code, problems, text=text) if send else None
        proved = peer.cert_subject or f"address:{peer.address or 'unknown'}"
        claimed = (
            sender_of(header)
            if header is not None and (header.sending_application or header.sending_facility)
            else None
        )
        message_type = f"{header.message_type}^{header.trigger_event}" if header and header.message_type else ""
        self._refusals.record_later(
            RefusedMessage(
                door=DOOR,
                actor=principal or proved,
                claimed_sender=claimed,
                control_id=header.control_id if header else "",
                message_type=message_type,
                answer_code=code,
                outcome="error" if code in ("AE", "CE") else "refused",
                reason=text,
                answer=ack,
                raw=raw,
                budget_key=proved if principal is None or principal.startswith("hl7:") else principal,
            )
        )
        return ack

    def _ack(self, header: Hl7Header | None, code: str, problems: Sequence[Problem], text: str | None = None) -> bytes:
        self._ack_counter += 1
        control_id = f"ACK{datetime.now(UTC):%Y%m%d%H%M%S}{self._ack_counter:06d}"
        return build_ack(
            header,
            code,
            problems,
            sending_application=self._identity.sending_application,
            sending_facility=self._identity.sending_facility,
            control_id=control_id,
            text=text,
        )

    def _count(self, outcome: str) -> None:
        self.counts[outcome] = self.counts.get(outcome, 0) + 1
        count_message(DOOR, outcome)


def _control_id(raw: bytes) -> str:
    """MSH-10 read without parsing, for an answer given before the message could be read."""
    first = raw.lstrip(b"\xef\xbb\xbf").split(b"\r", 1)[0].split(b"\n", 1)[0]
    if not first.startswith(b"MSH") or len(first) < 4:
        return ""
    fields = first.split(first[3:4])
    return fields[9].decode("ascii", "replace") if len(fields) > 9 else ""
