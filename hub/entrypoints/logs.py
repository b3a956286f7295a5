"""Structured JSON logs with correlation ids; message bodies and patient details never go to the output.

Every handler installed here carries the PHI filter (hub.security.log_filter): bodies, HL7 segments, FHIR
JSON and SCRIPT XML are redacted before formatting, exception texts included.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import TextIO

from hub.security.log_filter import PhiFilter

_EXTRA_KEYS = ("event", "message_id", "correlation_id", "control_id", "door", "step", "outcome")


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message and the hub's context keys."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key in _EXTRA_KEYS:
            if hasattr(record, key):
                entry[key] = getattr(record, key)
        if record.exc_info:
            entry["exception"] = record.exc_text or self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def handler(json_lines: bool = True, stream: TextIO | None = None) -> logging.Handler:
    """The hub's log handler: PHI filter, then JSON lines (or plain text for people)."""
    out = logging.StreamHandler(stream or sys.stderr)
    out.setFormatter(JsonFormatter() if json_lines else logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    out.addFilter(PhiFilter())
    return out


def configure(level: str = "INFO", json_lines: bool = True, stream: TextIO | None = None) -> None:
    """Install the root handler once (entrypoints only)."""
    root = logging.getLogger()
    root.handlers[:] = [handler(json_lines, stream)]
    root.setLevel(level)
    logging.getLogger("pika").setLevel(logging.WARNING)
