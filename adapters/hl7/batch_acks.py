"""The answer to an HL7 batch: a response batch holding one ACK per message.

HL7 leaves the receiver of a batch a choice ("Acknowledging batches", v2.4 section 2.15.3.3): acknowledge every
message in a response batch, or only the ones in error, the others then being implicitly accepted (v2.3
section 2.23.3: "a batch containing zero negative acknowledgment messages may be sent to indicate that all the
HL7 messages contained in the batch being acknowledged are implicitly acknowledged").  The hub acknowledges
every message: each gets its own ACK (MSH, MSA, ERR), built as for a message sent alone, whatever its MSH-15
asks, so no refusal can pass for an implicit acceptance.

The response mirrors the request: an FHS when it had one, then one BHS .. BTS per request batch, each BHS-12
(Reference Batch Control ID, "the value of BHS-11 Batch Control ID when this batch was originally
transmitted") the request's BHS-11 and FHS-12 its FHS-11; BTS-1 counts that batch's ACKs and FTS-1 the
batches (field definitions: HL7/v2ig ``input/sourceOfTruth`` BHS, FHS, BTS, FTS).  A refused envelope says
why in BHS-10 / FHS-10 (comment), beside an AE for every message in it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from adapters.hl7.batch import BatchFile, EnvelopeHeader
from adapters.hl7.escaping import STANDARD, escape
from hub.errors import Problem

_COMMENT_MAX = 80


def batch_ack(
    request: BatchFile,
    answers: Sequence[Sequence[bytes]],
    *,
    sending_application: str,
    sending_facility: str,
    control_id: str,
    now: datetime | None = None,
) -> bytes:
    """The response batch: ``answers[i]`` are the ACKs (each ending CR) for ``request.batches[i]``.

    ``control_id`` (at most 17 characters) makes FHS-11 ``F<id>`` and BHS-11 ``B<id><n>``, n counting batches
    from 1.  ``answers`` may hold one list more than the request has batches (a refusal when no message was
    found): it gets a BHS with no reference.
    """
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%d%H%M%S%z")
    ours = (escape(sending_application), escape(sending_facility))
    comment = _refusal(request.problems)
    out = []
    if request.header is not None:
        out.append(_header("FHS", ours, request.header, f"F{control_id}", stamp, comment))
    for number, acks in enumerate(answers, start=1):
        batch = request.batches[number - 1].header if number <= len(request.batches) else None
        out.append(_header("BHS", ours, batch or EnvelopeHeader(), f"B{control_id}{number}", stamp, comment))
        out.extend(acks)
        out.append(f"BTS|{len(acks)}\r".encode())
    if request.header is not None:
        out.append(f"FTS|{len(answers)}\r".encode())
    return b"".join(out)


def _header(
    segment_id: str, ours: tuple[str, str], request: EnvelopeHeader, control_id: str, stamp: str, comment: str
) -> bytes:
    """FHS/BHS-3..6 ours then the request's sender, -7 now, -10 comment, -11 ours, -12 the request's -11."""
    fields = [
        segment_id,
        STANDARD.encoding_characters(),
        *ours,
        request.sending_application,
        request.sending_facility,
        stamp,
        "",
        "",
        comment,
        escape(control_id),
        escape(request.control_id),
    ]
    while not fields[-1]:
        fields.pop()
    # the echoed fields were read as Latin-1, byte for byte: written back the same way, the sender's bytes return
    return ("|".join(fields) + "\r").encode("latin-1", errors="replace")


def _refusal(problems: Sequence[Problem]) -> str:
    if not problems:
        return ""
    return escape(f"refused: {problems[0].text}"[:_COMMENT_MAX])
