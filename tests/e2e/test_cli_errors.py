"""``rxhub`` fails with one line on stderr and a distinct exit code; a traceback only with ``--debug``."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from hub.entrypoints.exit_codes import ExitCode

RXHUB = [sys.executable, "-m", "hub.entrypoints.cli"]
#: nothing listens on port 9 (discard) of loopback on these machines: a connection is refused at once
NOWHERE_AMQP = "amqp://guest:guest@127.0.0.1:9/%2F"
NOWHERE_PG = "postgresql+psycopg://postgres@127.0.0.1:9/rxhub"


def _rxhub(*argv: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("RXHUB_")}
    return subprocess.run(
        [*RXHUB, *argv], env={**clean, "RXHUB_LOG_LEVEL": "WARNING", **env}, capture_output=True, text=True, timeout=120
    )


def _one_line(done: subprocess.CompletedProcess[str], code: ExitCode, says: str) -> None:
    lines = [line for line in done.stderr.splitlines() if line.startswith("rxhub: ")]
    assert done.returncode == code, done.stderr
    assert "Traceback" not in done.stderr, done.stderr
    assert len(lines) == 1 and says in lines[0], done.stderr


def test_each_failure_has_its_own_code_and_one_line(tmp_path: Path) -> None:
    database = f"sqlite:///{tmp_path / 'hub.sqlite3'}"
    _one_line(_rxhub("topology", RXHUB_AMQP_URL=NOWHERE_AMQP), ExitCode.BROKER, "broker unreachable")
    _one_line(_rxhub("users", "list", RXHUB_DATABASE_URL=NOWHERE_PG), ExitCode.DATABASE, "database unreachable")
    _one_line(_rxhub("users", "list", RXHUB_DATABASE_URL="not a url"), ExitCode.USAGE, "RXHUB_DATABASE_URL")
    _one_line(_rxhub("users", "list", RXHUB_MLLP_PORT="abc"), ExitCode.USAGE, "mllp_port")
    _one_line(_rxhub("send", "--port", "9", str(tmp_path / "none.hl7")), ExitCode.NETWORK, "cannot connect")
    _one_line(
        _rxhub("outbound", "status", RXHUB_OUTBOUND_DESTINATIONS=str(tmp_path / "none.json")),
        ExitCode.USAGE,
        "configuration",
    )
    assert _rxhub("users", "add", "ann", "--role", "technician", RXHUB_DATABASE_URL=database).returncode == 0
    _one_line(
        _rxhub("users", "add", "ann", "--role", "technician", RXHUB_DATABASE_URL=database),
        ExitCode.REFUSED,
        "already exists",
    )
    _one_line(
        _rxhub(
            "users", "add", "bob", "--role", "technician", "--expires-days", "999999999", RXHUB_DATABASE_URL=database
        ),
        ExitCode.USAGE,
        "invalid value",
    )


def test_debug_shows_the_traceback_and_version_the_package() -> None:
    debug = _rxhub("--debug", "topology", RXHUB_AMQP_URL=NOWHERE_AMQP)
    assert debug.returncode != 0 and "Traceback" in debug.stderr
    version = _rxhub("--version")
    assert version.returncode == 0 and version.stdout.startswith("rxhub ") and "unknown" not in version.stdout
