"""What the MLLP listener does with one message: parse, check, dedupe, publish durably, then ACK.

The ACK promise: AA/CA is sent only after the broker confirmed every command of the message.  If the
broker refuses or cannot be reached the sender gets AR/CR (0357 code 207) and resends later.  A resend
(same MSH-3/4 + MSH-10) gets its first ACK again; its commands carry derived ids, so even a resend that
slips past the dedupe record (database down) is applied once by the workers.
"""

from __future__ import annotations

import asyncio
import logging
import time

from adapters.hl7.acks import AckMode, application_ack_wanted, commit_ack_wanted
from adapters.hl7.batch import BatchFile, is_batch, read_batch
from adapters.hl7.door_answers import DOOR, AckIdentity, Hl7Answers, fingerprint, sender_of
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
from hub.observability.metrics import ACK_SECONDS
from hub.security.principals import BindingsSource, Peer, dedupe_sender
from hub.service.door_pipeline import DoorPipeline, Seen, Verdict
from hub.service.inbound_entry import InboundEntry
from hub.service.ports import CommandSink, DedupeJournal, InboundRecord, OrderIndex, RefusalLog

log = logging.getLogger(__name__)
__all__ = ["AckIdentity", "Hl7MessageHandler", "fingerprint", "sender_of"]


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
        self._pipeline = DoorPipeline(inbound, sink)
        self._identity = identity
        self._feeds, self._orders = feeds, orders
        self._answers = Hl7Answers(identity, refusals)

    @property
    def counts(self) -> dict[str, int]:
        """Messages handled, by outcome (``metrics.OUTCOMES``)."""
        return self._answers.counts

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
            return self._answers.reject(
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
            return self._answers.reject(header, exc, "AR", peer, raw=raw, always=always, outcome="refused")
        except UnsupportedMessageError as exc:
            return self._answers.reject(header, exc, "AR", peer, raw=raw, principal=principal, always=always)
        except InboundMessageError as exc:
            return self._answers.reject(header, exc, "AE", peer, raw=raw, principal=principal, always=always)
        except Exception:  # a parser bug must not cost the connection: AR 207 and the sender resends
            log.exception("unexpected error handling an HL7 message")
            internal = InboundMessageError("internal error", [Problem("207", "application internal error")])
            return self._answers.reject(
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
        return self._answers.batch(request, answers)

    def _refuse_in_batch(self, raw: bytes, request: BatchFile, peer: Peer) -> bytes | None:
        """AE (CE) for a message of a refused envelope: none of the batch is taken, so it can be resent whole."""
        try:
            header: Hl7Header | None = parse_message(raw).header
        except InboundMessageError:
            header = Hl7Header(control_id=_control_id(raw)) if raw else None
        error = MessageContentError(
            f"nothing in this batch was taken: {request.problems[0].text}", list(request.problems)
        )
        return self._answers.reject(header, error, "AE", peer, raw=raw, always=True)

    def _look_up(self, principal: str, header: Hl7Header) -> asyncio.Future[InboundRecord | None]:
        return self._pipeline.look_up(self._entry(b"", principal, header))

    async def drain(self) -> None:
        """Wait for dedupe records still being written (at shutdown)."""
        await self._pipeline.drain()

    def refuse_oversize(self, error: FrameTooLarge, peer: Peer) -> bytes:
        """AR for a frame refused by size (its bytes are gone, so MSA-2 is unknown), kept in the refusal log
        under what the connection proved, like every refusal."""
        ack = self._answers.refuse(None, "AR", error.problems, str(error), b"", peer, None)
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
        mode = AckMode.of(header)
        entry = self._entry(raw, principal, header)
        verdict = await self._pipeline.dedupe(entry, lambda earlier: _same_message(earlier, raw), lookup)
        if verdict.seen is Seen.REUSED:
            # same sender and MSH-10 but other content: not a resend, and not ours to guess which is right
            self._answers.count("rejected")
            problem = Problem(
                "205", f"control id {header.control_id} was already used for another message", location="MSH^1^10"
            )
            return self._answers.refuse(header, mode.reject, [problem], problem.text, raw, peer, principal)
        if verdict.seen is Seen.RESEND and verdict.holder is not None and verdict.holder.answer is not None:
            self._answers.count("duplicate")
            log.info("resent HL7 message acknowledged again", extra={"control_id": header.control_id})
            return verdict.holder.answer if always or commit_ack_wanted(header, success=True) else None
        # an identical message whose first copy is still being published (or whose process died) goes on: ids
        # from sender, MSH-10 *and* content map a true resend to the same commands, while another message
        # under a reused control id can never be mistaken for one
        envelopes = self._envelopes(raw, header, _with_reply(header, commands), entry, principal)
        refusal = await self._publish(raw, header, mode, envelopes, principal, peer, entry, verdict)
        if refusal is not None:
            return refusal
        ack = self._answers.ack(header, mode.accept, [])
        # the answer is recorded beside the ACK, not before it: the commands are already durable and carry
        # derived ids, so a resend that arrives before the answer is written is still applied only once
        self._pipeline.record(entry.answered(mode.accept, ack, [str(e.message_id) for e in envelopes]))
        for envelope in envelopes:
            if envelope.type == ReceivePrescription.name:
                self._orders.accepted(principal, str(envelope.correlation_id), str(envelope.message_id))
        self._answers.count("accepted")
        return ack if always or commit_ack_wanted(header, success=True) else None

    @staticmethod
    def _entry(raw: bytes, principal: str, header: Hl7Header) -> InboundEntry:
        """The message's inbound entry: its dedupe key is the sender (principal, MSH-3/4) and MSH-10."""
        sender = dedupe_sender(principal, sender_of(header))
        record_id = str(derived_message_id(DOOR, "inbound", sender, header.control_id))
        message_type = f"{header.message_type}^{header.trigger_event}"
        return InboundEntry(DOOR, sender, header.control_id, message_type, raw, record_id=record_id)

    def _envelopes(
        self, raw: bytes, header: Hl7Header, commands: list[Command], entry: InboundEntry, principal: str
    ) -> list[Envelope]:
        key = f"{header.control_id}|{fingerprint(raw)}"
        record_id = entry.record_id or ""
        return [self._envelope(c, entry.sender, key, i, record_id, principal) for i, c in enumerate(commands)]

    async def _publish(
        self,
        raw: bytes,
        header: Hl7Header,
        mode: AckMode,
        envelopes: list[Envelope],
        principal: str,
        peer: Peer,
        entry: InboundEntry,
        verdict: Verdict,
    ) -> bytes | None:
        """Check the orders the message names, then publish its commands: None, or the refusal's ACK (the key
        given back: nothing was published, a corrected resend is read afresh)."""
        try:
            unknown = await self._unknown_orders(principal, envelopes)
        except InfrastructureError as exc:
            self._pipeline.release(entry, verdict)
            self._answers.count("not_stored")
            log.warning(
                "orders cannot be looked up, answering reject: %s", exc, extra={"control_id": header.control_id}
            )
            problem = Problem("207", "message could not be checked now; resend later")
            return self._answers.refuse(header, mode.reject, [problem], problem.text, raw, peer, principal)
        if unknown:
            self._pipeline.release(entry, verdict)
            self._answers.count("rejected")
            return self._answers.refuse(header, mode.error, unknown, unknown[0].text, raw, peer, principal)
        try:
            await self._pipeline.publish(envelopes, (entry, verdict))
        except InfrastructureError as exc:
            self._answers.count("not_stored")
            log.warning("commands not stored, answering reject: %s", exc, extra={"control_id": header.control_id})
            problem = Problem("207", "message could not be stored now; resend later")
            return self._answers.refuse(header, mode.reject, [problem], problem.text, raw, peer, principal)
        return None

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


def _same_message(earlier: InboundRecord, raw: bytes) -> bool:
    """A resend: the same content as the message accepted under this key (its body purged: taken as one)."""
    return earlier.raw is None or fingerprint(earlier.raw) == fingerprint(raw)


def _with_reply(header: Hl7Header, commands: list[Command]) -> list[Command]:
    """MSH-16 AL/SU: an RRE AA once recorded; AL/ER: an application reject should intake refuse the order."""
    if not (application_ack_wanted(header, success=True) or application_ack_wanted(header, success=False)):
        return commands
    reply = ReplyTo(
        control_id=header.control_id,
        message_type=header.message_type,
        trigger_event=header.trigger_event,
        version=header.version,
        application_ack_type=header.application_ack_type,
    )
    return [c.model_copy(update={"reply": reply}) if isinstance(c, ReceivePrescription) else c for c in commands]


def _control_id(raw: bytes) -> str:
    """MSH-10 read without parsing, for an answer given before the message could be read."""
    first = raw.lstrip(b"\xef\xbb\xbf").split(b"\r", 1)[0].split(b"\n", 1)[0]
    if not first.startswith(b"MSH") or len(first) < 4:
        return ""
    fields = first.split(first[3:4])
    return fields[9].decode("ascii", "replace") if len(fields) > 9 else ""
