"""HL7 v2 delimiters and escape sequences (v2.5.1 Ch. 2.7): reading senders' values, writing ours."""

from __future__ import annotations

import re

from hub.domain.order_parts import Frozen

#: the explicit HL7 null: "delete this value" (v2.5.1 Ch. 2.5.3); for an order it means "no value"
HL7_NULL = '""'


class Delimiters(Frozen):
    """The separators a message declares in MSH-1 and MSH-2."""

    field: str = "|"
    component: str = "^"
    repetition: str = "~"
    escape: str = "\\"
    subcomponent: str = "&"

    def encoding_characters(self) -> str:
        """MSH-2 as it would be written for these delimiters."""
        return self.component + self.repetition + self.escape + self.subcomponent


STANDARD = Delimiters()
_FORMATTING = {".br": "\n", ".sp": "\n"}
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def unescape(value: str, delims: Delimiters) -> str:
    """Turn one leaf value (already split at its delimiters) back into the text the sender meant."""
    esc = delims.escape
    if not esc or esc not in value:
        return value
    out: list[str] = []
    pos = 0
    while pos < len(value):
        start = value.find(esc, pos)
        end = value.find(esc, start + 1) if start >= 0 else -1
        if start < 0 or end < 0:
            out.append(value[pos:])
            break
        out.append(value[pos:start])
        out.append(_expand(value[start + 1 : end], delims))
        pos = end + 1
    return "".join(out)


def _expand(seq: str, delims: Delimiters) -> str:
    simple = {
        "F": delims.field,
        "S": delims.component,
        "T": delims.subcomponent,
        "R": delims.repetition,
        "E": delims.escape,
    }
    if seq in simple:
        return simple[seq]
    if seq.startswith("X") and len(seq) > 1:
        return _hex_text(seq[1:])
    # \H\ \N\ highlighting, \.in\ indents, \Cxxyy\ \Mxxyyzz\ charset switches: no meaning in a value we map
    return _FORMATTING.get(seq, "")


def _hex_text(digits: str) -> str:
    try:
        raw = bytes.fromhex(digits)
    except ValueError:
        return ""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def escape(text: str, delims: Delimiters = STANDARD) -> str:
    """Make any text safe as one leaf value; control characters (CR, MLLP SB/FS) become spaces."""
    esc = delims.escape
    table = {
        esc: f"{esc}E{esc}",
        delims.field: f"{esc}F{esc}",
        delims.component: f"{esc}S{esc}",
        delims.subcomponent: f"{esc}T{esc}",
        delims.repetition: f"{esc}R{esc}",
    }
    text = _CONTROL.sub(" ", text)
    return "".join(table.get(ch, ch) for ch in text)
