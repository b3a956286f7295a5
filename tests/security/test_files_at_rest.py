"""The files that hold patient data or keys are readable by their owner only, whatever the umask."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from sqlalchemy import text

from hub.persistence.database import create_schema, make_engine
from hub.security.certs import make_ca


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_sqlite_file_and_its_journal_are_0600(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        database = tmp_path / "data" / "rxhub.sqlite3"
        engine = make_engine(f"sqlite:///{database}")
        create_schema(engine)
        with engine.begin() as conn:
            conn.execute(text("SELECT 1"))
        assert _mode(database) == 0o600
        for side in (database.with_name("rxhub.sqlite3-wal"), database.with_name("rxhub.sqlite3-shm")):
            if side.exists():
                assert _mode(side) == 0o600, side.name
        engine.dispose()
    finally:
        os.umask(old)


def test_an_existing_world_readable_database_is_narrowed(tmp_path: Path) -> None:
    database = tmp_path / "rxhub.sqlite3"
    database.touch()
    database.chmod(0o644)
    make_engine(f"sqlite:///{database}").dispose()
    assert _mode(database) == 0o600


def test_key_files_are_0600_even_when_one_was_there(tmp_path: Path) -> None:
    (tmp_path / "server.key").write_bytes(b"old")
    (tmp_path / "server.key").chmod(0o644)
    _cert, key = make_ca("Test CA").write(tmp_path, "server")
    assert _mode(key) == 0o600
