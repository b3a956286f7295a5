"""Parse untrusted XML bytes without expanding entities, fetching anything or growing without bound.

This is the only module (with ``xml_writer``) that touches lxml; everything else reads ``XmlNode``.
"""

from __future__ import annotations

from typing import Any

from lxml import etree

from adapters.ncpdp.script.xml_tree import XmlNode
from hub.errors import MessageContentError, Problem

DEFAULT_MAX_BYTES = 1_048_576
#: SCRIPT nests about a dozen levels deep; anything far deeper is an attack or garbage
MAX_DEPTH = 64
#: XML 1.0 whitespace, the only characters trimmed from text (str.strip would also eat U+0085 etc.)
XML_WHITESPACE = " \t\r\n"
#: a DTD is never needed for SCRIPT (the schema is XSD) and is the vehicle of XXE and billion laughs
_DECLARATION_MARKERS = (b"<!DOCTYPE", b"<!ENTITY")


def refused(text: str, location: str = "Message") -> MessageContentError:
    """A transaction-rejected (SCRIPT Error 900) content error."""
    return MessageContentError(text, [Problem(code="900", text=text, location=location)])


def parse_xml(body: bytes, *, max_bytes: int = DEFAULT_MAX_BYTES) -> XmlNode:
    """Parse ``body`` into a plain tree, or raise MessageContentError (900) saying why it was refused."""
    if len(body) > max_bytes:
        raise refused(f"message is {len(body)} bytes, more than the {max_bytes} accepted")
    if any(marker in body for marker in _DECLARATION_MARKERS):
        raise refused("DOCTYPE/ENTITY declarations are refused (external entities and entity expansion)")
    parser = etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        huge_tree=False,
        dtd_validation=False,
        remove_comments=True,
        remove_pis=True,
    )
    try:
        root = etree.fromstring(body, parser)
    except (etree.LxmlError, ValueError) as exc:
        raise refused(f"malformed XML: {exc}") from exc
    # the byte scan misses declarations in UTF-16 and other encodings; the parsed doctype does not
    if root.getroottree().docinfo.internalDTD is not None:
        raise refused("DOCTYPE/ENTITY declarations are refused (external entities and entity expansion)")
    return _to_node(root, 0)


def _local(name: str) -> str:
    return name.rsplit("}", 1)[-1]


def _to_node(element: Any, depth: int) -> XmlNode:
    if depth > MAX_DEPTH:
        raise refused(f"elements nested more than {MAX_DEPTH} deep")
    qname = etree.QName(element)
    children = tuple(_to_node(child, depth + 1) for child in element if isinstance(child.tag, str))
    text = (element.text or "").strip(XML_WHITESPACE) or None
    return XmlNode(
        name=qname.localname,
        namespace=qname.namespace,
        attributes=tuple((_local(key), value) for key, value in element.attrib.items()),
        text=text,
        children=children,
    )
