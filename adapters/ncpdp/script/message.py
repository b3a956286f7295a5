"""Read a SCRIPT message's envelope: the Header and which transaction its Body carries.

``read_message`` refuses only what has no usable header (unsafe or malformed XML, no Message/Header/
MessageID, no single transaction in Body); everything else is judged by ``to_command`` so the caller
can still answer the sender with an Error that names the request's MessageID.
"""

from __future__ import annotations

import uuid

from adapters.ncpdp.script.codes import LEGACY_KINDS, SCRIPT_NAMESPACE, VERSION_ATTRIBUTES, detect_version
from adapters.ncpdp.script.cursor import Cursor, ProblemLog
from adapters.ncpdp.script.safe_xml import DEFAULT_MAX_BYTES, parse_xml, refused
from adapters.ncpdp.script.xml_tree import XmlNode
from hub.domain.order_parts import Frozen
from hub.messaging.envelope import derived_message_id

#: transport.xsd: MessageID is an1..35
MAX_MESSAGE_ID = 35


class ScriptHeader(Frozen):
    """Message/Header plus the root's version and namespace, which answers copy."""

    to: str | None = None
    to_qualifier: str | None = None
    from_: str | None = None
    from_qualifier: str | None = None
    message_id: str
    relates_to_message_id: str | None = None
    #: Header/SentTime as sent (UTC date-time); not needed to act on the message, so not judged
    sent_time: str | None = None
    prescriber_order_number: str | None = None
    #: the pharmacy's prescription number, on messages about an existing prescription
    rx_reference_number: str | None = None
    #: "2017071", "2023011", "10.6", or whatever else the root declared
    version: str = "2017071"
    #: the root's namespace; None when the sender used none
    namespace: str | None = SCRIPT_NAMESPACE
    #: version attributes of the root, echoed on answers (empty: use the 2017071 set)
    root_attributes: tuple[tuple[str, str], ...] = ()


class ScriptMessage(Frozen):
    """A read SCRIPT message: header, transaction kind, and the transaction element itself."""

    header: ScriptHeader
    #: the Body's transaction, 10.6 names mapped to 2017071 ones (RefillResponse -> RxRenewalResponse)
    kind: str
    body: XmlNode


def read_message(body: bytes, *, max_bytes: int = DEFAULT_MAX_BYTES) -> ScriptMessage:
    """Parse SCRIPT XML bytes (2017071, 2023011 or 10.6; namespace optional) into a ScriptMessage."""
    root = parse_xml(body, max_bytes=max_bytes)
    if root.name != "Message":
        raise refused(f"root element is {root.name}, not a SCRIPT Message", root.name)
    log = ProblemLog()
    message = Cursor(root, "Message", log)
    header = message.at("Header").required()
    message_id = header.at("MessageID").required_text()
    if message_id is not None and len(message_id) > MAX_MESSAGE_ID:
        header.at("MessageID").invalid(f"MessageID is longer than {MAX_MESSAGE_ID} characters")
    transactions = message.at("Body").required().node
    if transactions is not None and len(transactions.children) != 1:
        log.add("Message/Body", f"Body must hold exactly one transaction, found {len(transactions.children)}")
    log.raise_if_any("unreadable SCRIPT message", control_id=message_id or "")
    assert header.node is not None and transactions is not None and message_id is not None
    transaction = transactions.children[0]
    return ScriptMessage(
        header=_header(root, header.node, message_id),
        kind=LEGACY_KINDS.get(transaction.name, transaction.name),
        body=transaction,
    )


def _header(root: XmlNode, header: XmlNode, message_id: str) -> ScriptHeader:
    to, sender = header.child("To"), header.child("From")
    return ScriptHeader(
        to=to.text if to is not None else None,
        to_qualifier=to.attribute("Qualifier") if to is not None else None,
        from_=sender.text if sender is not None else None,
        from_qualifier=sender.attribute("Qualifier") if sender is not None else None,
        message_id=message_id,
        relates_to_message_id=header.text_at("RelatesToMessageID"),
        sent_time=header.text_at("SentTime"),
        prescriber_order_number=header.text_at("PrescriberOrderNumber"),
        rx_reference_number=header.text_at("RxReferenceNumber"),
        version=detect_version(root.attributes),
        namespace=root.namespace,
        root_attributes=tuple((k, v) for k, v in root.attributes if k in VERSION_ATTRIBUTES),
    )


def placer_system(header: ScriptHeader) -> str | None:
    """Who assigned the placer order number: the From address, prefixed by its qualifier ("D:123")."""
    if header.from_ is None:
        return None
    return f"{header.from_qualifier}:{header.from_}" if header.from_qualifier else header.from_


def dedupe_key(msg: ScriptMessage) -> str:
    """The key under which a resent message is recognised: From + MessageID (unique per sender)."""
    return f"{msg.header.from_ or ''}|{msg.header.message_id}"


def command_message_id(msg: ScriptMessage) -> uuid.UUID:
    """The envelope message id of the command a message becomes; the same on every resend."""
    return derived_message_id("script", msg.header.from_ or "", msg.header.message_id)
