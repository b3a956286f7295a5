"""hl7apy STRICT validation of an RDE with its segments placed in their groups by hand (see ``strict``)."""

from __future__ import annotations

from hl7apy.consts import VALIDATION_LEVEL
from hl7apy.core import Group, Message
from hl7apy.parser import parse_segment

#: segment -> group path in RDE_O11 / RDE_O01; the first TQ1 is the order's timing, the second the encoded one
GROUPS = {
    "PID": ("PATIENT",),
    "PV1": ("PATIENT", "PATIENT_VISIT"),
    "ORC": ("ORDER",),
    "RXE": ("ORDER",),
    "RXR": ("ORDER",),
}


def strict(er7: str, version: str) -> Message:
    """hl7apy STRICT validation with the segments placed in their groups by hand: hl7apy's own ``find_groups``
    puts a TQ1 that follows RXE into ORDER/TIMING (before RXE) and then misses TIMING_ENCODED."""
    known = "2.7" if version == "2.7.1" else version  # hl7apy has no 2.7.1; it shares 2.7's segments
    lines = er7.strip("\r").replace("|2.7.1\r", "|2.7\r").split("\r")
    structure = "RDE_O01" if known in ("2.3", "2.3.1") else "RDE_O11"
    msg = Message(structure, version=known, validation_level=VALIDATION_LEVEL.STRICT)
    groups: dict[tuple[str, ...], Group] = {}
    timings = 0

    def group(*path: str) -> Group | Message:
        parent: Group | Message = msg
        for depth in range(1, len(path) + 1):
            if path[:depth] not in groups:
                groups[path[:depth]] = parent.add_group(f"{structure}_{path[depth - 1]}")
            parent = groups[path[:depth]]
        return parent

    for line in lines:
        seg = parse_segment(line, version=known, validation_level=VALIDATION_LEVEL.STRICT)
        if line.startswith("MSH"):
            msg.msh = seg
            continue
        if line.startswith("TQ1"):
            timings += 1
            group("ORDER", "TIMING" if timings == 1 else "TIMING_ENCODED").add(seg)
            continue
        group(*GROUPS[line[:3]]).add(seg)
    if known == "2.3":  # v2.3's ORDER ends in a required group of optional segments {[OBX] [{NTE}]}: empty
        group("ORDER", "OBSERVATION")
    msg.validate()
    return msg
