"""The public HL7 v2 samples in ../shared/corpus/hl7v2 (provenance per file in its SOURCES.md)."""

from __future__ import annotations

from tests.support.corpus import CORPUS as SHARED_CORPUS

CORPUS = SHARED_CORPUS / "hl7v2"


def sample(name: str) -> bytes:
    """The bytes of one corpus file, exactly as stored."""
    return (CORPUS / name).read_bytes()


def sample_names() -> list[str]:
    """Every HL7 v2 file in the corpus."""
    return sorted(p.name for p in CORPUS.glob("*.hl7"))
