"""Where the shared public D.0 samples live (provenance per file in ../shared/corpus/SOURCES.md)."""

from tests.support.corpus import CORPUS as SHARED_CORPUS

CORPUS = SHARED_CORPUS / "d0"


def sample(name: str) -> bytes:
    """The bytes of one corpus file."""
    return (CORPUS / name).read_bytes()
