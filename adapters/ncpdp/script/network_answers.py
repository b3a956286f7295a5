"""What a SCRIPT network's answer to one POSTed message means for the connector (standards.md §3.1).

* Status 000 / 010                     -> delivered
* Verify                               -> delivered, and the recipient confirmed receipt
* Error 600 (communication problem)    -> retry: the standard says to try again
* any other Error (601, 602, 700, 900) -> dead letter, with the Error's code and description
* HTTP 5xx, 408, 429, no answer        -> retry
* other HTTP 4xx                       -> dead letter (the network refused the request itself)
* a 2xx whose body is no SCRIPT answer to this message -> retry (networks dedupe by MessageID)
"""

from __future__ import annotations

from dataclasses import dataclass

from adapters.ncpdp.script.codes import ACKNOWLEDGEMENT_KINDS
from adapters.ncpdp.script.message import read_message
from hub.errors import InboundMessageError
from hub.messaging.held_delivery import Attempt, Outcome

#: Status codes that mean the network took the message
DELIVERED_STATUS = frozenset({"000", "010"})
#: Error codes the standard tells the sender to retry
RETRY_ERRORS = frozenset({"600"})
_RETRY_HTTP = frozenset({408, 425, 429})


@dataclass(frozen=True)
class NetworkAnswer:
    """The settled meaning of one answer, with what to log or dead-letter."""

    outcome: Outcome
    code: str = ""
    description: str = ""

    @property
    def settled(self) -> bool:
        """Whether the message is done with (delivered, confirmed or refused)."""
        return self.outcome is not Outcome.RETRY

    def text(self) -> str:
        """``<code> <description>`` for logs and the dead letter's error header."""
        return f"{self.code} {self.description}".strip()

    def attempt(self) -> Attempt:
        """The delivery loop's view of this answer."""
        return Attempt(self.outcome, self.text())


def judge_answer(status: int, body: bytes, message_id: str) -> NetworkAnswer:
    """The meaning of HTTP ``status`` with ``body`` as the answer to our message ``message_id``."""
    if status >= 500 or status in _RETRY_HTTP:
        return NetworkAnswer(Outcome.RETRY, f"HTTP {status}", _snippet(body))
    if status >= 400:
        return NetworkAnswer(Outcome.REFUSED, f"HTTP {status}", _snippet(body))
    try:
        answer = read_message(body)
    except InboundMessageError as exc:
        return NetworkAnswer(Outcome.RETRY, f"HTTP {status}", f"unreadable answer: {exc}"[:200])
    if answer.kind not in ACKNOWLEDGEMENT_KINDS:
        return NetworkAnswer(Outcome.RETRY, f"HTTP {status}", f"answer is a {answer.kind}, not Status/Error/Verify")
    related = answer.header.relates_to_message_id
    if related is not None and related != message_id:
        return NetworkAnswer(Outcome.RETRY, f"HTTP {status}", f"answer relates to {related}, not {message_id}")
    code = answer.body.text_at("Code") or ""
    description = answer.body.text_at("Description") or ""
    if answer.kind == "Verify":
        return NetworkAnswer(Outcome.CONFIRMED, "Verify", description)
    if answer.kind == "Status":
        outcome = Outcome.DELIVERED if code in DELIVERED_STATUS else Outcome.RETRY
        return NetworkAnswer(outcome, f"Status {code}", description)
    outcome = Outcome.RETRY if code in RETRY_ERRORS else Outcome.REFUSED
    detail = answer.body.text_at("DescriptionCode")
    return NetworkAnswer(outcome, f"Error {code}", f"{detail}: {description}" if detail else description)


def _snippet(body: bytes) -> str:
    return body[:200].decode("utf-8", "replace").strip()
