"""Secrets from files (``RXHUB_<NAME>_FILE``, Docker and Kubernetes secrets) and one-line settings errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from hub.config import FILE_SECRETS, Settings
from hub.entrypoints import cli


@pytest.mark.parametrize("name", FILE_SECRETS)
def test_a_secret_is_read_from_the_file_its_variable_names(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = tmp_path / name
    secret.write_text("amqp://rxhub:s3cret@rabbitmq:5672/%2F\n")  # a trailing newline, as editors leave it
    monkeypatch.delenv(f"RXHUB_{name.upper()}", raising=False)
    monkeypatch.setenv(f"RXHUB_{name.upper()}_FILE", str(secret))
    assert getattr(Settings(), name).get_secret_value() == "amqp://rxhub:s3cret@rabbitmq:5672/%2F"


def test_a_secret_set_twice_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "key").write_text("k1")
    monkeypatch.setenv("RXHUB_COMMAND_KEY", "k2")
    monkeypatch.setenv("RXHUB_COMMAND_KEY_FILE", str(tmp_path / "key"))
    with pytest.raises(ValueError, match="both set"):
        Settings()


def test_an_unreadable_secret_file_is_one_line_and_exit_code_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("RXHUB_DATABASE_URL_FILE", str(tmp_path / "missing"))
    assert cli.main(["topology"]) == 2
    err = capsys.readouterr().err
    assert (
        err == f"rxhub: configuration: RXHUB_DATABASE_URL_FILE: cannot read {tmp_path / 'missing'}: "
        "No such file or directory\n"
    )
