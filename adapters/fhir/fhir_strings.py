"""The R4 rule for string content: no character below U+0020 but tab, CR and LF (R4 datatypes, ``string``).

A JSON body may escape any of them (``\\u001b``), and an answer that repeats such a value is not valid FHIR,
so the door refuses it at once and names where it sits.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

#: what R4 strings may not hold ("SHOULD not contain Unicode character points below 32, except for u0009,
#: u000D and u000A"; validators, Medplum's among them, refuse them)
CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")
#: the same, as JSON escapes them (raw control characters inside a JSON string are not JSON at all)
CONTROL_ESCAPE = re.compile(rb"\\u00(?:0[0-8bBcCeEfF]|1[0-9a-fA-F])")


@dataclass(frozen=True)
class ControlCharacter:
    """The first forbidden character and the keys and indexes down to its string."""

    path: tuple[str | int, ...]
    character: str

    def where(self, root: str) -> str:
        """The place as a FHIRPath from ``root``."""
        text = root
        for step in self.path:
            name = CONTROL.sub("?", step) if isinstance(step, str) else ""
            text += f"[{step}]" if isinstance(step, int) else (f".{name}" if text else name)
        return text

    def describe(self, where: str) -> str:
        """What is wrong, for an OperationOutcome."""
        return f"{where} holds the control character U+{ord(self.character):04X}, which FHIR strings may not contain"


def first_control(value: object, path: tuple[str | int, ...] = ()) -> ControlCharacter | None:
    """The first control character in any key or string of a parsed JSON value."""
    if isinstance(value, str):
        found = CONTROL.search(value)
        return ControlCharacter(path, found.group()) if found else None
    if isinstance(value, dict):
        for key, item in value.items():
            hit = first_control(key, path) or first_control(item, (*path, key))
            if hit is not None:
                return hit
    elif isinstance(value, list):
        for index, item in enumerate(value):
            hit = first_control(item, (*path, index))
            if hit is not None:
                return hit
    return None
