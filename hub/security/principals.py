"""Who sent a message: the principal a door authenticated, and what it may claim inside the message.

A principal is a string that travels in every command envelope and owns the orders it sends:

* ``feed:NAME``  a feed the hub knows (``rxhub feeds add``): its bearer token (FHIR, SCRIPT), its TLS
  certificate subject or, on loopback or behind a TLS-terminating proxy, an MLLP sender bound to it
* ``cert:CN``    an MLLP client certificate the allow-list admitted but no feed is bound to
* ``hl7:APP|FAC`` an MLLP sender bound to no feed, on a loopback connection only (development, demos)
* ``user:NAME``  a staff member (staff API; an admin trying a door)

A claim (HL7 MSH-3/4, SCRIPT From) bound to one feed may be used by that feed only; a feed with bindings of
a kind may claim only those.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from hub.errors import Problem, SenderRefused
from hub.security.tls import is_loopback

#: binding kinds: a TLS client certificate's subject CN, an HL7 MSH-3|MSH-4 pair, a SCRIPT From value
CERT, HL7, SCRIPT = "cert", "hl7", "script"
BINDING_KINDS = (CERT, HL7, SCRIPT)
_FEED = "feed:"
#: between the principal and the claimed sender in a door's dedupe key (``inbound_messages.sender``)
_CLAIM_MARK = ">"


def feed_principal(name: str) -> str:
    """The principal of a feed."""
    return f"{_FEED}{name}"


def user_principal(name: str, role: str) -> str:
    """The principal of a token holder: a feed's token speaks for the feed, anyone else for themselves."""
    return feed_principal(name) if role == "feed" else f"user:{name}"


def feed_of(principal: str | None) -> str | None:
    """The feed a principal is, or None (staff, unbound senders)."""
    if principal and principal.startswith(_FEED):
        return principal[len(_FEED) :]
    return None


def dedupe_sender(principal: str, claimed: str | None = None) -> str:
    """A door's dedupe sender: the principal, and the claimed sender when it says more.

    Resends are found within one principal: another feed reusing a control id neither collides with the
    first nor is handed its answer.
    """
    if not claimed or principal.endswith(claimed):
        return principal
    return f"{principal}{_CLAIM_MARK}{claimed}"


def split_sender(sender: str) -> tuple[str, str | None]:
    """(principal, claimed sender) of a dedupe sender; rows written before principals read as the claim."""
    principal, mark, claimed = sender.partition(_CLAIM_MARK)
    return (principal, claimed) if mark else (principal, None)


@dataclass(frozen=True)
class Peer:
    """What an MLLP connection proved: the verified client certificate's CN, and where it comes from."""

    cert_subject: str | None = None
    address: str | None = None

    @property
    def loopback(self) -> bool:
        """Whether the connection comes from this machine."""
        return self.address is not None and is_loopback(self.address)


@dataclass(frozen=True)
class FeedBindings:
    """Every active feed's bindings, as read at one moment: (kind, value) -> feed."""

    bound: dict[tuple[str, str], str] = field(default_factory=dict)

    def feed_bound_to(self, kind: str, value: str) -> str | None:
        """The feed this certificate subject or claimed sender is bound to."""
        return self.bound.get((kind, value))

    def has_bindings(self, feed: str, kind: str) -> bool:
        """Whether the feed lists values of this kind (then it may claim only those)."""
        return any(k == kind and f == feed for (k, _), f in self.bound.items())

    def check_claim(self, principal: str, kind: str, claimed: str, location: str) -> None:
        """Refuse a claim bound to another feed, or one the principal's feed does not list."""
        owner, feed = self.feed_bound_to(kind, claimed), feed_of(principal)
        if owner is not None and owner != feed:
            raise _refused(f"sender {claimed} is bound to another feed", location)
        if feed is not None and owner is None and self.has_bindings(feed, kind):
            raise _refused(f"sender {claimed} is not one of feed {feed}'s senders", location)

    def mllp_principal(self, peer: Peer, claimed: str, *, location: str = "MSH^1^3") -> str:
        """The principal of an HL7 message: its certificate's feed, else the feed its MSH-3/4 is bound to.

        An MSH-3/4 bound to no feed is taken only from loopback (as ``hl7:APP|FAC``): off this machine the
        only identity left would be the one the message writes about itself.
        """
        if peer.cert_subject:
            feed = self.feed_bound_to(CERT, peer.cert_subject)
            principal = feed_principal(feed) if feed else f"cert:{peer.cert_subject}"
            self.check_claim(principal, HL7, claimed, location)
            return principal
        feed = self.feed_bound_to(HL7, claimed)
        if feed is not None:
            return feed_principal(feed)
        if peer.loopback:
            return f"hl7:{claimed}"
        raise _refused(f"sender {claimed} is bound to no feed and the connection has no client certificate", location)


class BindingsSource(Protocol):
    """Where a door gets the current bindings (``hub.persistence.feeds.FeedDirectory``)."""

    async def bindings(self) -> FeedBindings:
        """The bindings, fresh within a few seconds."""


def _refused(text: str, location: str) -> SenderRefused:
    return SenderRefused(text, [Problem("207", f"not authorized: {text}", location=location)])
