"""Where the shared public D.0 samples live (provenance per file in ../shared/corpus/SOURCES.md)."""

from pathlib import Path

CORPUS = Path(__file__).resolve().parents[4] / "shared" / "corpus" / "d0"


def sample(name: str) -> bytes:
    """The bytes of one corpus file."""
    return (CORPUS / name).read_bytes()
