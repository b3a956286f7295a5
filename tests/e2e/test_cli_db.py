"""``rxhub db`` and the data directory: every command finds the same database wherever it is run from."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

RXHUB = [sys.executable, "-m", "hub.entrypoints.cli"]
ROOT = Path(__file__).resolve().parents[2]


def _rxhub(cwd: Path, *argv: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("RXHUB_")}
    done = subprocess.run(
        [*RXHUB, *argv],
        env={**clean, "PYTHONPATH": str(ROOT), "RXHUB_LOG_LEVEL": "WARNING", **env},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return done


def test_db_upgrade_current_history(tmp_path: Path) -> None:
    env = {"RXHUB_DATABASE_URL": f"sqlite:///{tmp_path / 'hub.sqlite3'}"}
    assert "empty (no schema yet)" in _rxhub(tmp_path, "db", "current", **env).stdout
    head = _rxhub(tmp_path, "db", "history", **env).stdout.splitlines()[0].split()[2]
    assert f"schema at {head} (upgraded from empty)" in _rxhub(tmp_path, "db", "upgrade", **env).stdout
    assert "(up to date)" in _rxhub(tmp_path, "db", "upgrade", **env).stdout
    assert _rxhub(tmp_path, "db", "current", **env).stdout.strip() == f"{head} (head)"


def test_commands_run_from_different_folders_share_the_data_dir(tmp_path: Path) -> None:
    home, one, two = tmp_path / "home", tmp_path / "one", tmp_path / "two"
    for folder in (home, one, two):
        folder.mkdir()
    env = {"HOME": str(home), "XDG_DATA_HOME": ""}  # the default for a user that is not root
    if os.geteuid() == 0:  # root's default is /var/lib/rxhub: the test names a folder of its own instead
        env = {"RXHUB_DATA_DIR": str(tmp_path / "state")}
    _rxhub(one, "users", "add", "ann", "--role", "technician", **env)
    assert "ann" in _rxhub(two, "users", "list", **env).stdout
    assert not list(one.iterdir()) and not list(two.iterdir()), "nothing written in the current directory"
    folder = Path(env.get("RXHUB_DATA_DIR") or home / ".local" / "share" / "rxhub")
    assert (folder / "rxhub.sqlite3").is_file()
