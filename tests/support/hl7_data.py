"""This repository's own HL7 v2 test samples (tests/data/hl7, provenance in its SOURCES.md)."""

from __future__ import annotations

from pathlib import Path

HL7_DATA = Path(__file__).resolve().parents[1] / "data" / "hl7"
#: one JAHIS prescription of three items under one ORC-2 (SS-MIX2 sample, ISO-2022-JP)
JAHIS_THREE_ITEMS = "ssmix2_jahis_rde_o11_three_items_one_orc2_iso2022jp.hl7"
#: a JAHIS injection order with RXC base and additive (SS-MIX2 sample, ISO-2022-JP)
JAHIS_INJECTION = "ssmix2_jahis_rde_o11_injection_rxc_iso2022jp.hl7"


def stored(name: str) -> bytes:
    """A sample's bytes exactly as stored."""
    return (HL7_DATA / name).read_bytes()


def message(name: str) -> bytes:
    """A sample as a sender puts it in an MLLP frame: SS-MIX2 files end with the FS byte, the framer's own."""
    return stored(name).removesuffix(b"\x1c")
