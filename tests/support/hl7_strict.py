"""hl7apy strict validation of the hub's outbound messages, with the two places hl7apy misjudges HL7 corrected."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path
from typing import Any

from hl7apy.consts import VALIDATION_LEVEL
from hl7apy.exceptions import ValidationError
from hl7apy.parser import parse_message as hl7apy_parse


def strict(message: bytes) -> None:
    """hl7apy's strict validation: structure, required fields, datatypes and lengths of that version."""
    parsed = hl7apy_parse(_known_version(message.decode()), validation_level=VALIDATION_LEVEL.STRICT, find_groups=True)
    _refile_encoded_timing(parsed)
    with tempfile.TemporaryDirectory() as folder:
        report = Path(folder) / "errors.txt"
        try:
            parsed.validate(report_file=str(report))
        except ValidationError:
            errors = [line for line in report.read_text().splitlines() if line.startswith("Error")]
            unexpected = _choice_answered([e for e in errors if not _V23_OBSERVATION.search(e)])
            assert not unexpected, unexpected


def _known_version(er7: str) -> str:
    """The message as hl7apy can judge it: hl7apy has no 2.7.1, which shares 2.7's segments (MSH-12)."""
    header, _, rest = er7.partition("\r")
    fields = header.split("|")
    if len(fields) > 11 and fields[11] == "2.7.1":
        fields[11] = "2.7"
    return "|".join(fields) + "\r" + rest


#: ORM^O01's ORDER_DETAIL starts with one of ``<OBR | RQD | RQ1 | RXO | ODS | ODT>``; hl7apy cannot model a
#: choice and wants all six, so five "missing" members of one choice group mean the choice was made
_CHOICE = re.compile(r"^Error: Missing required child (ORM_O01_(?:CHOICE|OBRRQDRQ1RXOODSODT_SUPPGRP))\.(\w+)$")
_ALTERNATIVES = 6


def _choice_answered(errors: list[str]) -> list[str]:
    """The errors left once each choice group missing exactly all but one alternative is set aside."""
    missing: dict[str, int] = {}
    for error in errors:
        if found := _CHOICE.match(error):
            missing[found[1]] = missing.get(found[1], 0) + 1
    made = {group for group, count in missing.items() if count == _ALTERNATIVES - 1}
    return [e for e in errors if not ((found := _CHOICE.match(e)) and found[1] in made)]


#: v2.3 RDE^O01/RDS^O01 end their ORDER group with ``{[OBX] [{NTE}]}``, a group that may be empty; hl7apy's
#: v2.3 tables make it (and its OBX) required, which the standard does not
_V23_OBSERVATION = re.compile(r"^Error: Missing required child RD[ES]_O01_ORDER\.RD[ES]_O01_OBSERVATION$")


def _refile_encoded_timing(parsed: Any) -> None:
    """hl7apy files RDE^O11's TQ1 after RXE under the ORC's TIMING group (both start with TQ1): move it to
    TIMING_ENCODED, where v2.5+ puts it, so the check judges the message as HL7 defines it."""
    for order in parsed.children:
        names = [child.name for child in order.children]
        if order.name != "RDE_O11_ORDER" or "RXE" not in names:
            continue
        for misfiled in [c for c in list(order.children)[names.index("RXE") + 1 :] if c.name == "RDE_O11_TIMING"]:
            encoded = order.add_group("RDE_O11_TIMING_ENCODED")
            for segment in list(misfiled.children):
                encoded.add(segment)
            order.children.remove(misfiled)
