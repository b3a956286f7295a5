"""Text the hub can keep: one rule for every string a message or a staff request brings in.

PostgreSQL text (and every value read out of its json) cannot hold U+0000, and neither database's UTF-8
columns can hold a lone surrogate (U+D800-U+DFFF: a JSON ``\\ud800`` escape without its partner). SQLite
would keep a NUL, so the two databases would disagree; and on PostgreSQL an order carrying one fails every
attempt to store it, after its sender was told it was accepted. So such text is refused before any answer
is given: each door finds the first one and names its place in the sender's own terms (an HL7 ERL, a
FHIRPath, an element), and the workers refuse a command that still carries one as bad content.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from pydantic import BaseModel
from pydantic_core import PydanticSerializationError, to_json

#: what no column of the hub can hold, on SQLite and PostgreSQL alike
UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
#: a NUL as JSON writes it (pydantic's encoder refuses lone surrogates outright); an escaped backslash before
#: "u0000" also matches, and the walk then finds nothing
_ESCAPED_NUL = b"\\u0000"
#: what stands in for such a character where the hub records text it refused (never what it acts on)
REPLACEMENT = "\ufffd"

Path = tuple[str | int, ...]


@dataclass(frozen=True)
class Unstorable:
    """Where the first character the hub cannot store sits: the keys and indexes down to its string."""

    path: Path
    character: str

    @property
    def code_point(self) -> str:
        """The character as the standards write it, e.g. ``U+0000``."""
        return f"U+{ord(self.character):04X}"

    def dotted(self, root: str = "") -> str:
        """The path as ``root.key[index].key`` (a FHIRPath when ``root`` is the resource type)."""
        text = root
        for step in self.path:
            text += f"[{step}]" if isinstance(step, int) else (f".{step}" if text else step)
        return made_storable(text)

    def describe(self, where: str) -> str:
        """A sentence for the sender: what is wrong at ``where``, and that it cannot be kept."""
        kind = "a NUL" if self.character == "\x00" else "an unpaired surrogate"
        return f"{where} holds {kind} ({self.code_point}), a character the pharmacy cannot store"


def unstorable_in(text: str) -> str | None:
    """The first character of ``text`` the hub cannot store, or None."""
    if text.isascii():  # the usual case, ten times faster than the search
        return "\x00" if "\x00" in text else None
    found = UNSTORABLE.search(text)
    return found.group() if found else None


def first_unstorable(value: object) -> Unstorable | None:
    """The first string in ``value`` (a string, a pydantic model, mappings and sequences of them, keys
    included), depth first, holding a character the hub cannot store; None when all of it can be kept.

    Every command a worker takes passes here: the value is screened as JSON first (pydantic's encoder and a
    substring search, three microseconds for a new order), and walked in Python, ten times slower, only
    when the screen finds something.
    """
    if isinstance(value, str):
        return _walk(value, ())
    try:
        screened = _ESCAPED_NUL in to_json(value, fallback=_no_text)
    except PydanticSerializationError:  # a lone surrogate cannot be encoded: walk to find it
        screened = True
    return _walk(value, ()) if screened else None


def _no_text(_value: object) -> None:
    """What the screen writes for a value JSON has no form for (it holds no text the walk would visit)."""


def _walk(value: object, path: Path) -> Unstorable | None:
    if isinstance(value, str):
        character = unstorable_in(value)
        return Unstorable(path, character) if character is not None else None
    if isinstance(value, BaseModel):
        items: list[tuple[str | int, object]] = list(value.__dict__.items())
    elif isinstance(value, Mapping):
        items = []
        for key, item in value.items():
            if isinstance(key, str) and (character := unstorable_in(key)) is not None:
                return Unstorable((*path, key), character)
            items.append((str(key), item))
    elif isinstance(value, list | tuple | set | frozenset):
        items = list(enumerate(value))
    else:
        return None
    for key, item in items:
        found = _walk(item, (*path, key))
        if found is not None:
            return found
    return None


def made_storable(text: str) -> str:
    """``text`` with every character the hub cannot store replaced, for recording what was refused."""
    return UNSTORABLE.sub(REPLACEMENT, text)
