"""Which SCRIPT transactions become which hub command, and what is refused.

Refusals use Error 900 (transaction rejected), never 601: in this hub 601/602 mean "cannot process it
now, try later", while a transaction the pharmacy never accepts (a pharmacy-side message such as
CancelRxResponse, RxRenewalRequest, RxChange*, RxFill, or an unknown element) fails the same way on
every retry.
"""

from __future__ import annotations

from collections.abc import Callable

from adapters.ncpdp.script.codes import SUPPORTED_VERSIONS
from adapters.ncpdp.script.cursor import REJECTED
from adapters.ncpdp.script.followups import cancel_rx_to_command, renewal_response_to_command
from adapters.ncpdp.script.message import ScriptMessage
from adapters.ncpdp.script.newrx import new_rx_to_command
from hub.domain.commands import Command
from hub.errors import Problem, UnsupportedMessageError

_MAPPERS: dict[str, Callable[[ScriptMessage], Command]] = {
    "NewRx": new_rx_to_command,
    "CancelRx": cancel_rx_to_command,
    "RxRenewalResponse": renewal_response_to_command,
}
#: the transactions ``to_command`` accepts (10.6 RefillResponse is read as RxRenewalResponse)
ACCEPTED_KINDS = frozenset(_MAPPERS)


def to_command(msg: ScriptMessage) -> Command:
    """The hub command a SCRIPT request asks for; raises InboundMessageError subclasses (code 900)."""
    if msg.header.version not in SUPPORTED_VERSIONS:
        raise _unsupported(
            msg, f"SCRIPT version {msg.header.version} is not supported (2017071, 2023011, 10.6)", "Message"
        )
    mapper = _MAPPERS.get(msg.kind)
    if mapper is None:
        raise _unsupported(
            msg,
            f"{msg.body.name} is not accepted here; accepted: {', '.join(sorted(ACCEPTED_KINDS))}",
            f"Message/Body/{msg.body.name}",
        )
    return mapper(msg)


def _unsupported(msg: ScriptMessage, text: str, location: str) -> UnsupportedMessageError:
    problem = Problem(code=REJECTED, text=text, location=location)
    return UnsupportedMessageError(text, [problem], control_id=msg.header.message_id)
