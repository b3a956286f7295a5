"""Where the shared public sample messages are: ``shared/corpus`` beside the clone (as CI lays it out),
else ``RXHUB_CORPUS``, else the workplace's /work/shared/corpus."""

from __future__ import annotations

import os
from pathlib import Path

_BESIDE = Path(__file__).resolve().parents[3] / "shared" / "corpus"
CORPUS = _BESIDE if _BESIDE.exists() else Path(os.environ.get("RXHUB_CORPUS", "/work/shared/corpus"))
