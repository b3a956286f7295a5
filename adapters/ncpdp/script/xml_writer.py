"""Write SCRIPT XML: root in the request's style, the transport Header, escaped element text.

With ``safe_xml`` the only module that touches lxml; builders hand back bytes.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any, NamedTuple

from lxml import etree

from adapters.ncpdp.script.codes import ROOT_ATTRIBUTES_2017071, SCRIPT_NAMESPACE
from adapters.ncpdp.script.message import MAX_MESSAGE_ID, ScriptHeader

#: characters XML 1.0 cannot carry at all (§2.2); they are replaced, never sent raw
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
#: Header/SenderSoftware is required from 2017071 on (transport.xsd SenderSoftwareType)
SENDER_SOFTWARE = (
    ("SenderSoftwareDeveloper", "RxHub"),
    ("SenderSoftwareProduct", "RxHub"),
    ("SenderSoftwareVersionRelease", "0.1"),
)


class Routing(NamedTuple):
    """Header/To and Header/From of an outbound message, with their qualifiers."""

    to: str | None
    to_qualifier: str | None
    from_: str | None
    from_qualifier: str | None


def xml_text(value: str) -> str:
    """``value`` with characters XML cannot represent replaced by U+FFFD."""
    return _NOT_XML.sub("\ufffd", value)


def answer_routing(request: ScriptHeader | None) -> Routing:
    """To/From of an answer: the request's From and To swapped (unknown when the request was unreadable)."""
    if request is None:
        return Routing(None, None, None, None)
    return Routing(request.from_, request.from_qualifier, request.to, request.to_qualifier)


def new_message(style: ScriptHeader | None) -> Any:
    """A Message root with the request's namespace and version attributes (2017071 when unknown)."""
    namespace = style.namespace if style is not None else SCRIPT_NAMESPACE
    attributes = (style.root_attributes if style is not None else ()) or ROOT_ATTRIBUTES_2017071
    root = etree.Element(_tag(namespace, "Message"), nsmap={None: namespace} if namespace else None)
    for key, value in attributes:
        root.set(key, xml_text(value))
    return root


def add(parent: Any, name: str, text: str | None = None, **attributes: str) -> Any:
    """Append a child element in the parent's namespace."""
    element = etree.SubElement(parent, _tag(etree.QName(parent).namespace, name))
    for key, value in attributes.items():
        element.set(key, xml_text(value))
    if text is not None:
        element.text = xml_text(text)
    return element


def add_optional(parent: Any, name: str, text: str | None) -> None:
    """Append a child element only when there is a value for it."""
    if text is not None:
        add(parent, name, text)


def write_header(
    root: Any,
    routing: Routing,
    *,
    message_id: str,
    now: datetime,
    relates_to: str | None,
    version: str,
    rx_reference_number: str | None = None,
    prescriber_order_number: str | None = None,
) -> None:
    """Message/Header in transport.xsd order; SenderSoftware from 2017071 on."""
    if not message_id or len(message_id) > MAX_MESSAGE_ID:
        raise ValueError(f"MessageID must be 1..{MAX_MESSAGE_ID} characters")
    header = add(root, "Header")
    _address(header, "To", routing.to, routing.to_qualifier)
    _address(header, "From", routing.from_, routing.from_qualifier)
    add(header, "MessageID", message_id)
    add_optional(header, "RelatesToMessageID", relates_to)
    add(header, "SentTime", _utc(now))
    if version != "10.6":
        software = add(header, "SenderSoftware")
        for name, value in SENDER_SOFTWARE:
            add(software, name, value)
    add_optional(header, "RxReferenceNumber", rx_reference_number)
    add_optional(header, "PrescriberOrderNumber", prescriber_order_number)


def serialize(root: Any) -> bytes:
    """UTF-8 bytes with an XML declaration."""
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))


def _address(header: Any, name: str, value: str | None, qualifier: str | None) -> None:
    element = add(header, name, value)
    if qualifier is not None:
        element.set("Qualifier", xml_text(qualifier))


def _utc(now: datetime) -> str:
    moment = now.astimezone(UTC) if now.tzinfo is not None else now.replace(tzinfo=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _tag(namespace: str | None, name: str) -> str:
    return f"{{{namespace}}}{name}" if namespace else name
