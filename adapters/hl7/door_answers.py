"""The HL7 door's answers: ACKs, refusals kept in the refusal log, and the door's message counts.

What the door says back is the standard's business (HL7 v2 ACK, MSA-1 codes, ERR segments); what it does
with a message it takes is the door pipeline's (``hub.service.door_pipeline``).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from adapters.hl7.acks import AckMode, build_ack, commit_ack_wanted
from adapters.hl7.batch import BatchFile
from adapters.hl7.batch_acks import batch_ack
from adapters.hl7.message_model import Hl7Header
from hub.errors import InboundMessageError, Problem
from hub.observability.metrics import count_message
from hub.security.principals import Peer
from hub.service.ports import RefusalLog, RefusedMessage

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


class Hl7Answers:
    """Builds the door's ACKs, keeps its refusals, counts its outcomes (``metrics.OUTCOMES``)."""

    def __init__(self, identity: AckIdentity, refusals: RefusalLog) -> None:
        self._identity, self._refusals = identity, refusals
        self._ack_counter = 0
        self.counts: dict[str, int] = {}

    def reject(
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
        self.count(outcome)  # AR and AE alike: the message was refused (metrics.OUTCOMES)
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
        return self.refuse(header, code, exc.problems, str(exc), raw, peer, principal, send=send)

    def refuse(
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
        ack = self.ack(header, code, problems, text=text) if send else None
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

    def ack(self, header: Hl7Header | None, code: str, problems: Sequence[Problem], text: str | None = None) -> bytes:
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

    def count(self, outcome: str) -> None:
        self.counts[outcome] = self.counts.get(outcome, 0) + 1
        count_message(DOOR, outcome)

    def batch(self, request: BatchFile, answers: list[list[bytes]]) -> bytes:
        """The batch acknowledgement listing every message's answer."""
        self._ack_counter += 1
        return batch_ack(
            request,
            answers,
            sending_application=self._identity.sending_application,
            sending_facility=self._identity.sending_facility,
            control_id=f"{datetime.now(UTC):%y%m%d%H%M%S}{self._ack_counter % 10000:04d}",
        )
