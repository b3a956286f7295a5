"""The public FHIR R4 samples in ../shared/corpus/fhir (provenance per file in its SOURCES.md)."""

from __future__ import annotations

from pathlib import Path

from tests.support.corpus import CORPUS

FHIR_CORPUS: Path = CORPUS / "fhir"


def corpus_bytes(name: str) -> bytes:
    """The bytes of one corpus file, exactly as stored."""
    return (FHIR_CORPUS / name).read_bytes()


def corpus_names() -> list[str]:
    """Every FHIR JSON file in the corpus."""
    return sorted(p.name for p in FHIR_CORPUS.glob("*.json"))
