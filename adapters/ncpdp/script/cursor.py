"""Walk a SCRIPT element tree while collecting every problem, each with its XPath-like location.

A sender fixes a rejected NewRx faster when the Error 900 lists all that is wrong at once, so readers
note problems here and the mapper raises one MessageContentError at the end.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from adapters.ncpdp.script.xml_tree import XmlNode
from hub.errors import MessageContentError, Problem

#: SCRIPT Error code for a rejected transaction (transport.xsd TransactionErrorCode)
REJECTED = "900"


@dataclass
class ProblemLog:
    """The problems found so far in one message."""

    problems: list[Problem] = field(default_factory=list)

    def add(self, location: str, text: str) -> None:
        """Record one problem at ``location``."""
        self.problems.append(Problem(code=REJECTED, text=text, location=location))

    def raise_if_any(self, summary: str, control_id: str) -> None:
        """Raise a MessageContentError listing every problem, if there is one."""
        if self.problems:
            details = "; ".join(f"{p.location}: {p.text}" for p in self.problems)
            raise MessageContentError(f"{summary}: {details}", list(self.problems), control_id=control_id)


@dataclass(frozen=True)
class Cursor:
    """A position in the tree (possibly absent) with the path that names it in problem reports."""

    node: XmlNode | None
    path: str
    log: ProblemLog
    #: the parent was absent too, so only the outermost missing element is reported
    parent_absent: bool = False

    def at(self, *steps: str) -> Cursor:
        """The element at ``steps`` below this one; ``"A|B"`` accepts either name."""
        node, path = self.node, self.path
        for step in steps:
            names = step.split("|")
            found = node.child(*names) if node is not None else None
            path = f"{path}/{found.name if found is not None else names[0]}"
            node = found
        return Cursor(node, path, self.log, parent_absent=self.node is None or self.parent_absent)

    def all(self, name: str) -> list[Cursor]:
        """Every child named ``name`` (repeating elements)."""
        if self.node is None:
            return []
        return [Cursor(n, f"{self.path}/{name}", self.log) for n in self.node.children_named(name)]

    @property
    def present(self) -> bool:
        """Whether the element exists."""
        return self.node is not None

    def required(self) -> Cursor:
        """Note a problem when this required element is missing; returns self for chaining."""
        if self.node is None and not self.parent_absent:
            self.log.add(self.path, f"required element {self.path.rsplit('/', 1)[-1]} is missing")
        return self

    def text(self) -> str | None:
        """The element's text, None when absent or empty."""
        return self.node.text if self.node is not None else None

    def required_text(self) -> str | None:
        """The element's text, noting a problem when it is missing or empty."""
        if self.node is not None and self.node.text is None:
            self.log.add(self.path, f"required element {self.node.name} is empty")
        return self.required().text()

    def attribute(self, name: str) -> str | None:
        """An attribute of this element."""
        return self.node.attribute(name) if self.node is not None else None

    def invalid(self, text: str) -> None:
        """Note that this element's content is wrong."""
        self.log.add(self.path, text)
