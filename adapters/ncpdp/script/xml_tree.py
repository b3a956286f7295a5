"""A plain, immutable XML tree: what the SCRIPT adapter reads instead of lxml objects.

Elements and attributes are known by their local name only, so a document in the
``http://www.ncpdp.org/schema/SCRIPT`` namespace and one without any namespace read the same.
"""

from __future__ import annotations

from collections.abc import Iterator

from pydantic import BaseModel, ConfigDict


class XmlNode(BaseModel):
    """One element with its attributes, trimmed text and child elements (comments and PIs dropped)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    namespace: str | None = None
    attributes: tuple[tuple[str, str], ...] = ()
    #: text content with surrounding XML whitespace removed; None when empty
    text: str | None = None
    children: tuple[XmlNode, ...] = ()

    def child(self, *names: str) -> XmlNode | None:
        """The first child element named any of ``names``."""
        for node in self.children:
            if node.name in names:
                return node
        return None

    def children_named(self, *names: str) -> tuple[XmlNode, ...]:
        """Every child element named any of ``names``, in document order."""
        return tuple(node for node in self.children if node.name in names)

    def attribute(self, name: str) -> str | None:
        """An attribute's value by local name."""
        for key, value in self.attributes:
            if key == name:
                return value
        return None

    def find(self, *steps: str) -> XmlNode | None:
        """Walk down child steps; a step ``"A|B"`` accepts either spelling (2017071 vs 10.6 names)."""
        node: XmlNode | None = self
        for step in steps:
            if node is None:
                return None
            node = node.child(*step.split("|"))
        return node

    def text_at(self, *steps: str) -> str | None:
        """The text of the element at ``steps``, if present and not empty."""
        node = self.find(*steps)
        return node.text if node is not None else None

    def iter(self) -> Iterator[XmlNode]:
        """This element and all its descendants, depth first."""
        stack: list[XmlNode] = [self]
        while stack:
            node = stack.pop()
            yield node
            stack.extend(reversed(node.children))

    def descendant(self, *names: str) -> XmlNode | None:
        """The first descendant (document order) named any of ``names``."""
        return next((node for node in self.iter() if node is not self and node.name in names), None)


XmlNode.model_rebuild()
