"""One exception tree for the whole hub, split by what the caller must do.

    RxHubError
    ├── InboundMessageError        bad input: reject it and answer with the standard's error
    │   ├── UnsupportedMessageError    not ours to handle (HL7 AR 200-203, FHIR not-supported)
    │   ├── MessageContentError        content is wrong (HL7 AE, FHIR invalid, NCPDP M/I)
    │   └── SenderRefused              the claimed sender is not the authenticated one's (AR, 403, Error 601)
    ├── DomainError                a pharmacy rule forbids it: reject, emit a failure event
    │   ├── IllegalTransition
    │   ├── ControlIdInUse             another message under this key is being accepted: resend to read it
    │   ├── ControlIdReused            another message was accepted under this key first: the first stands
    │   ├── NotAuthorized              the actor lacks the role (pharmacist gate)
    │   └── NotFound
    ├── UnauthenticatedCommand     a command on the bus no hub process signed: dead-letter, never apply
    ├── TransientError             try again later (payer timeout, lock, host unavailable)
    ├── ConfigurationError         a setting or configuration file is wrong: stop before any door opens
    └── InfrastructureError        broker or database is down or refused
        ├── BrokerUnavailable
        ├── PublishNotConfirmed        nacked or unconfirmed: the message is NOT durably stored; try again
        │   └── PublishUnroutable      returned: nothing is bound for it, trying again will not help
        └── DatabaseUnavailable

Third-party exceptions are translated at the edge with ``raise ... from``.
"""

from __future__ import annotations

from dataclasses import dataclass


class RxHubError(Exception):
    """Root of every error the hub raises on purpose."""


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an inbound message, located precisely enough for the sender to fix it.

    ``location`` is standard-specific: an HL7 ERL (``RXE^1^2^1^1``), a FHIRPath expression, an NCPDP
    field id.  ``code`` is the standard's error code (HL7 table 0357, FHIR issue type, NCPDP reject).
    """

    code: str
    text: str
    location: str = ""
    severity: str = "E"


class InboundMessageError(RxHubError):
    """An inbound message that cannot be turned into commands."""

    def __init__(self, message: str, problems: list[Problem] | None = None, control_id: str = "") -> None:
        super().__init__(message)
        self.problems: list[Problem] = problems or [Problem(code="207", text=message)]
        self.control_id = control_id


class UnsupportedMessageError(InboundMessageError):
    """Type, event, version or processing id the hub does not handle (HL7 AR)."""


class MessageContentError(InboundMessageError):
    """The message is of a kind we handle but its content is wrong (HL7 AE)."""


class SenderRefused(InboundMessageError):
    """The message claims a sender (MSH-3/4, SCRIPT From) that is not bound to the connection's or token's
    feed, or comes unbound over plain TCP from off this machine: refused at the door and audited."""


class DomainError(RxHubError):
    """A pharmacy rule forbids the requested change."""


class ControlIdInUse(DomainError):
    """Another message under this sender's control id (or order identifier) is being accepted right now."""


class ControlIdReused(DomainError):
    """A different message was already accepted under this sender's control id (or order identifier): the first
    one stands and this one is refused, never answered as if it had been kept (an answer is a promise)."""

    def __init__(self, message: str, location: str = "") -> None:
        super().__init__(message)
        #: where the message names the reused key (a FHIRPath, an HL7 ERL)
        self.location = location


class IllegalTransition(DomainError):
    """The prescription's state does not allow this step."""

    def __init__(self, current: str, action: str) -> None:
        super().__init__(f"cannot {action} a prescription in state {current}")
        self.current = current
        self.action = action


class NotAuthorized(DomainError):
    """The actor's role does not permit the action (e.g. a technician approving a verification)."""


class NotFound(DomainError):
    """The referenced prescription, fill or item does not exist (for this sender: another's is not found)."""

    def __init__(self, message: str, location: str = "") -> None:
        super().__init__(message)
        #: where the message names it (a FHIRPath, an HL7 ERL), when it came in a message
        self.location = location


class UnauthenticatedCommand(RxHubError):
    """A command whose signature is missing, malformed or wrong (hub.security.command_signing): whoever
    published it holds broker credentials but not the hub's command key, so it is refused, never retried."""


class ConfigurationError(RxHubError):
    """A setting or a file it names cannot be used; the process stops with one line saying which and why."""


class TransientError(RxHubError):
    """A failure that may succeed if retried later."""


class InfrastructureError(RxHubError):
    """The broker or the database is unavailable or refused an operation."""


class BrokerUnavailable(InfrastructureError):
    """RabbitMQ cannot be reached or the connection was lost."""


class BrokerNodesUnreachable(BrokerUnavailable):
    """No broker node accepted a connection (each node's failure is already logged, rate-limited)."""


class PublishNotConfirmed(InfrastructureError):
    """The broker nacked, returned or did not confirm a message: it is not durably stored.

    A nack is passing trouble (a quorum queue that lost its leader when a node died nacks until a new leader
    is elected); only a return (``PublishUnroutable``) says the message can never be delivered as addressed.
    """


class PublishUnroutable(PublishNotConfirmed):
    """The broker returned a mandatory message: no queue is bound for its routing key."""


class DatabaseUnavailable(InfrastructureError):
    """The database cannot be reached or is locked beyond the wait time."""
