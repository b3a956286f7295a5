"""Message-level checks on MSH: is this a message the order port handles at all?

Unsupported version, processing id, type or event are rejections (HL7 AR, table 0357 codes 200-203); a
missing required MSH field is a content error (AE, 101).  All problems found are reported together.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping

from adapters.hl7.message_model import Hl7Header
from hub.errors import MessageContentError, Problem, UnsupportedMessageError

SUPPORTED_VERSIONS = frozenset({"2.3", "2.3.1", "2.4", "2.5", "2.5.1", "2.6", "2.7", "2.7.1", "2.8"})
DEFAULT_PROCESSING_IDS = frozenset({"P", "T", "D"})
#: message type -> trigger events the order port accepts; RDE^O01 is the pre-v2.4 name of RDE^O11
SUPPORTED_MESSAGES: Mapping[str, frozenset[str]] = {
    "RDE": frozenset({"O11", "O01"}),
    "OMP": frozenset({"O09"}),
    "ORM": frozenset({"O01"}),
}


def validate_header(
    header: Hl7Header,
    *,
    processing_ids: Collection[str] = DEFAULT_PROCESSING_IDS,
    default_processing_id: str | None = None,
) -> None:
    """Raise UnsupportedMessageError (AR) or MessageContentError (AE) unless MSH says "an order for us".

    MSH-11 is required, so an empty one is a 101 error, unless ``default_processing_id`` is configured for
    a peer known to leave it out (the Cerner RDE^O01 feed in the corpus does).
    """
    missing = _missing_fields(header, default_processing_id)
    unsupported = _unsupported(header, processing_ids)
    problems = missing + unsupported
    if unsupported:
        raise UnsupportedMessageError(_summary(problems), problems, control_id=header.control_id)
    if missing:
        raise MessageContentError(_summary(problems), problems, control_id=header.control_id)


def _missing_fields(header: Hl7Header, default_processing_id: str | None) -> list[Problem]:
    required = {
        9: header.message_type,
        10: header.control_id,
        11: header.processing_id or default_processing_id,
        12: header.version,
    }
    return [
        Problem("101", f"MSH-{field} is required but empty", f"MSH^1^{field}")
        for field, value in required.items()
        if not value
    ]


def _unsupported(header: Hl7Header, processing_ids: Collection[str]) -> list[Problem]:
    problems = []
    if header.version and header.version not in SUPPORTED_VERSIONS:
        problems.append(Problem("203", f"HL7 version {header.version} is not supported", "MSH^1^12"))
    if header.processing_id and header.processing_id not in processing_ids:
        text = f"processing id {header.processing_id} is not accepted here"
        problems.append(Problem("202", text, "MSH^1^11"))
    problems.extend(_unsupported_type(header))
    return problems


def _unsupported_type(header: Hl7Header) -> list[Problem]:
    kind, event = header.message_type, header.trigger_event
    if not kind:
        return []
    if kind not in SUPPORTED_MESSAGES:
        return [Problem("200", f"message type {kind} is not handled by the order port", "MSH^1^9^1^1")]
    if event not in SUPPORTED_MESSAGES[kind]:
        return [Problem("201", f"event {kind}^{event} is not handled by the order port", "MSH^1^9^1^2")]
    return []


def _summary(problems: list[Problem]) -> str:
    return "; ".join(p.text for p in problems)
