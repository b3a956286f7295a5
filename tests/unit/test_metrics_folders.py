"""The folders where ``rxhub run``'s workers keep their metrics: made per hub, removed when it ends, and those
of a hub killed before it could remove its own are removed by the next."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from hub.observability import metrics


def test_a_killed_hubs_folder_goes_a_running_hubs_stays(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead = tmp_path / f"rxhub-metrics-{int(gone.stdout)}-abc"
    alive = tmp_path / f"rxhub-metrics-{os.getppid()}-def"
    for folder in (dead, alive):
        folder.mkdir()
        (folder / "counter_1.db").write_bytes(b"")
    try:
        folder = Path(metrics.worker_environment()["PROMETHEUS_MULTIPROC_DIR"])
        assert folder.parent == tmp_path and folder.name.startswith(f"rxhub-metrics-{os.getpid()}-")
        assert not dead.exists(), "the killed hub's folder is removed"
        assert alive.exists(), "a running process's folder is left alone"
    finally:
        metrics.forget_workers()
    assert not folder.exists()
