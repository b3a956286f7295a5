"""ACK messages and when to send them (standards.md 1.4; v2.5.1 Ch. 2.9 acknowledgment rules).

Original mode (MSH-15 and MSH-16 both empty): one ACK with AA / AE / AR, always sent.  Enhanced mode: a
commit ACK with CA / CE / CR, sent as MSH-15 asks (AL always, NE never, ER only on error, SU only on success;
an empty MSH-15 beside a filled MSH-16 is read as AL).  The ACK is plain string building, no HL7 library:
it sits on the per-message path, where hl7apy costs milliseconds.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from enum import StrEnum

from adapters.hl7.escaping import STANDARD, escape
from adapters.hl7.message_model import Hl7Header
from adapters.hl7.parsing import CHARSET_CODECS
from hub.domain.order_parts import Frozen
from hub.errors import Problem

DEFAULT_VERSION = "2.5.1"
#: table 0357 message error condition codes
ERROR_CONDITIONS = {
    "0": "Message accepted",
    "100": "Segment sequence error",
    "101": "Required field missing",
    "102": "Data type error",
    "103": "Table value not found",
    "104": "Value too long",
    "200": "Unsupported message type",
    "201": "Unsupported event code",
    "202": "Unsupported processing id",
    "203": "Unsupported version id",
    "204": "Unknown key identifier",
    "205": "Duplicate key identifier",
    "206": "Application record locked",
    "207": "Application internal error",
}
#: MSH-18 we declare when we must send non-ASCII text and the request declared no character set
_UTF8 = "UNICODE UTF-8"
_MSA3_MAX = 80


class AckMode(StrEnum):
    """Original or enhanced acknowledgment mode, and the MSA-1 codes each uses."""

    ORIGINAL = "original"
    ENHANCED = "enhanced"

    @classmethod
    def of(cls, header: Hl7Header) -> AckMode:
        """Enhanced as soon as MSH-15 or MSH-16 is filled."""
        return cls.ENHANCED if header.accept_ack_type or header.application_ack_type else cls.ORIGINAL

    @property
    def accept(self) -> str:
        """Code for "stored / accepted"."""
        return "CA" if self is AckMode.ENHANCED else "AA"

    @property
    def error(self) -> str:
        """Code for "content is wrong, fix and resend" (0357 100-104)."""
        return "CE" if self is AckMode.ENHANCED else "AE"

    @property
    def reject(self) -> str:
        """Code for "not ours or not now" (0357 200-207)."""
        return "CR" if self is AckMode.ENHANCED else "AR"


def _wanted(condition: str, success: bool) -> bool:
    condition = condition.upper()
    if condition == "NE":
        return False
    if condition == "ER":
        return not success
    if condition == "SU":
        return success
    return True  # AL, empty or unknown: answering is the safe side


def commit_ack_wanted(header: Hl7Header, success: bool) -> bool:
    """Whether the (commit or original-mode) ACK is to be sent, per MSH-15 (table 0155)."""
    return AckMode.of(header) is AckMode.ORIGINAL or _wanted(header.accept_ack_type, success)


def application_ack_wanted(header: Hl7Header, success: bool) -> bool:
    """Whether an enhanced-mode application ACK (RRE/ORP) is due later, per MSH-16 (table 0155)."""
    return (
        AckMode.of(header) is AckMode.ENHANCED
        and bool(header.application_ack_type)
        and (_wanted(header.application_ack_type, success))
    )


class AckPolicy(Frozen):
    """How one message is to be acknowledged."""

    mode: AckMode
    #: send the (commit) ACK when the message was stored
    on_success: bool
    #: send the (commit) ACK when the message was refused
    on_error: bool


def ack_policy(header: Hl7Header) -> AckPolicy:
    """The mode, and whether an ACK goes out on success and on failure, for this message."""
    return AckPolicy(
        mode=AckMode.of(header),
        on_success=commit_ack_wanted(header, True),
        on_error=commit_ack_wanted(header, False),
    )


def build_ack(
    request: Hl7Header | None,
    code: str,
    problems: Sequence[Problem] = (),
    *,
    sending_application: str,
    sending_facility: str,
    control_id: str,
    now: datetime | None = None,
    text: str | None = None,
) -> bytes:
    """The ER7 ACK answering ``request`` (None: MSH unreadable), one ERR per problem, segments ending CR."""
    request = request or Hl7Header()
    version = request.version if _version_tuple(request.version) else DEFAULT_VERSION
    modern = _version_tuple(version) >= (2, 5)
    body = [_msa(request, code, problems, text, version)]
    if problems and modern:
        body.extend(_err_v25(p) for p in problems)
    elif problems:
        body.append(_err_v23(problems, version))
    ours = _Sender(app=sending_application, facility=sending_facility, control_id=control_id, now=now)
    charset = request.charset if request.charset.upper() in CHARSET_CODECS else ""
    msh = _msh(request, version, ours, charset)
    if not charset and not (msh.isascii() and all(s.isascii() for s in body)):
        charset = _UTF8
        msh = _msh(request, version, ours, charset)
    message = "\r".join([msh, *body]) + "\r"
    return message.encode(CHARSET_CODECS.get(charset.upper(), "utf-8"), errors="replace")


class _Sender(Frozen):
    app: str
    facility: str
    control_id: str
    now: datetime | None


def _msh(request: Hl7Header, version: str, ours: _Sender, charset: str) -> str:
    stamp = (ours.now or datetime.now(UTC)).strftime("%Y%m%d%H%M%S%z")
    trigger = escape(request.trigger_event)
    # MSH-9.3 message structure exists from v2.3.1; a v2.3 receiver expects two components
    msg_type = f"ACK^{trigger}^ACK" if _version_tuple(version) >= (2, 3, 1) else f"ACK^{trigger}"
    fields = [
        "MSH",
        STANDARD.encoding_characters(),
        escape(ours.app),
        escape(ours.facility),
        _echo(request.sending_application),
        _echo(request.sending_facility),
        stamp,
        "",
        msg_type,
        escape(ours.control_id),
        escape(request.processing_id or "P"),
        escape(version),
    ]
    if charset:
        fields += [""] * 5 + [escape(charset)]
    return "|".join(fields)


def _echo(hd: str) -> str:
    """An HD kept as ER7 by the parser goes back as is; only what could break the segment is escaped."""
    return "".join(escape(ch) if ch in "|~\r\n\x0b\x1c" else ch for ch in hd)


def _msa(request: Hl7Header, code: str, problems: Sequence[Problem], text: str | None, version: str) -> str:
    """MSA-1 code, MSA-2 the request's MSH-10; MSA-3 text (withdrawn in v2.7) and MSA-6 (before v2.5)."""
    fields = ["MSA", escape(code), escape(request.control_id)]
    if _version_tuple(version) < (2, 7):
        accepted = ERROR_CONDITIONS["0"] if code in ("AA", "CA") else ""
        summary = text or (problems[0].text if problems else accepted)
        fields.append(escape(summary[:_MSA3_MAX]))
    if problems and (2, 2) <= _version_tuple(version) < (2, 5):  # MSA-6: the 0357 code before ERR-3
        fields += ["", "", _condition(problems[0], "^")]
    while len(fields) > 3 and not fields[-1]:
        fields.pop()
    return "|".join(fields)


def _err_v25(problem: Problem) -> str:
    location = "^".join(escape(part) for part in problem.location.split("^")) if problem.location else ""
    severity = escape(problem.severity or "E")
    return f"ERR||{location}|{_condition(problem, '^')}|{severity}||||{escape(problem.text)}"


def _err_v23(problems: Sequence[Problem], version: str) -> str:
    """Before v2.5, one ERR whose ERR-1 repeats: ELD ``seg^seq^field^code&text&HL70357`` (v2.1: the code)."""
    if _version_tuple(version) < (2, 2):
        return "ERR|" + "~".join(escape(p.code) for p in problems)
    return "ERR|" + "~".join(_eld(p) for p in problems)


def _eld(problem: Problem) -> str:
    parts = [*problem.location.split("^"), "", "", ""][:3]
    return "^".join([*(escape(p) for p in parts), _condition(problem, "&")])


def _condition(problem: Problem, sep: str) -> str:
    meaning = ERROR_CONDITIONS.get(problem.code, problem.text)
    return sep.join((escape(problem.code), escape(meaning), "HL70357"))


def _version_tuple(version: str) -> tuple[int, ...]:
    parts = version.split(".")
    readable = all(p.isascii() and p.isdigit() and len(p) < 4 for p in parts)
    return tuple(int(p) for p in parts) if readable else ()
