"""The default database lives in the data directory, never in the current one."""

from __future__ import annotations

from pathlib import Path

import pytest

from hub import config
from hub.config import Settings


@pytest.fixture(autouse=True)
def _no_rxhub_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("RXHUB_DATABASE_URL", "RXHUB_DATABASE_URL_FILE", "RXHUB_DATA_DIR", "XDG_DATA_HOME"):
        monkeypatch.delenv(name, raising=False)


def test_a_user_keeps_it_under_xdg_data_home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(config.os, "geteuid", lambda: 1000)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert Settings().database_url.get_secret_value() == f"sqlite:///{tmp_path}/.local/share/rxhub/rxhub.sqlite3"
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert Settings().data_dir == tmp_path / "xdg" / "rxhub"


def test_root_keeps_it_in_var_lib(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(config.os, "geteuid", lambda: 0)
    assert Settings().database_url.get_secret_value() == "sqlite:////var/lib/rxhub/rxhub.sqlite3"


def test_the_data_dir_is_made_absolute_and_an_explicit_url_wins(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("RXHUB_DATA_DIR", "state")
    assert Settings().database_url.get_secret_value() == f"sqlite:///{tmp_path}/state/rxhub.sqlite3"
    monkeypatch.setenv("RXHUB_DATABASE_URL", "postgresql+psycopg://hub@db/rxhub")
    assert Settings().database_url.get_secret_value() == "postgresql+psycopg://hub@db/rxhub"
