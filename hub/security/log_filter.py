"""Keeps patient data out of log output: message bodies, HL7 segments, FHIR JSON and SCRIPT XML are redacted.

The hub logs ids (message id, control id, correlation id), never bodies; this filter is the second line,
for a body that slips into a message, an argument or an exception text (a parser quoting its input).
"""

from __future__ import annotations

import logging
import re

#: an HL7 v2 segment (3-character id then the field separator) and everything after it on the line
_HL7 = re.compile(r"(?<![A-Za-z0-9])[A-Z][A-Z0-9]{2}\|[^\n]*")
#: a FHIR resource in JSON, from its opening brace to the end of the line
_FHIR = re.compile(r"\{[^{}\n]*\"resourceType\"[^\n]*")
#: XML (an NCPDP SCRIPT message or any other document) from its first tag to the end of the line; a closing
#: tag must follow, so object reprs like ``<SelectConnection OPEN ...>`` stay readable
_XML = re.compile(r"<(?:\?xml|[A-Za-z][\w:.-]*[\s>/])[^\n]*(?:</|/>)[^\n]*")
REDACTED = "[redacted]"


def redact(text: str) -> str:
    """The text with every message body in it replaced by a marker."""
    for pattern in (_HL7, _FHIR, _XML):
        text = pattern.sub(REDACTED, text)
    return text


class PhiFilter(logging.Filter):
    """A handler filter: formats the record's message, redacts it, and redacts exception and stack texts."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Always keeps the record, with bodies redacted."""
        if record.args:
            record.args = tuple(_safe_arg(a) for a in record.args) if isinstance(record.args, tuple) else record.args
        record.msg, record.args = redact(record.getMessage()), ()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


def _safe_arg(value: object) -> object:
    """Bytes are message bodies: logged as their length only."""
    if isinstance(value, bytes | bytearray | memoryview):
        return f"<{len(value)} bytes>"
    return value
