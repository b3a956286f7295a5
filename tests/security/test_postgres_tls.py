"""TLS to PostgreSQL: the hub connects with sslmode=verify-full to a server whose certificate our CA signed,
and refuses one signed by another CA.

A private PostgreSQL cluster with TLS on is started for the test (initdb as the postgres user, a free port,
a temporary folder), so the machine's shared server keeps its own configuration.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from hub.persistence.database import make_engine
from hub.security.certs import write_dev_certificates

BIN = Path(sorted(glob.glob("/usr/lib/postgresql/*/bin"))[-1]) if glob.glob("/usr/lib/postgresql/*/bin") else None


def _as_postgres(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["runuser", "-u", "postgres", "--", *args], check=True, capture_output=True, text=True, timeout=60
    )


@pytest.fixture(scope="module")
def tls_postgres() -> Iterator[tuple[int, Path, Path]]:
    assert BIN is not None, "PostgreSQL server binaries are missing"
    base = Path(tempfile.mkdtemp(prefix="rxhub-pgtls-"))  # pytest's own tmp is root-only; postgres must enter
    os.chmod(base, 0o755)
    pki = write_dev_certificates(base / "pki")
    data = base / "data"
    data.mkdir()
    shutil.chown(data, "postgres", "postgres")
    _as_postgres(str(BIN / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres")
    for name, source in (("server.crt", pki.server_cert), ("server.key", pki.server_key)):
        shutil.copy(source, data / name)
        shutil.chown(data / name, "postgres", "postgres")
        os.chmod(data / name, 0o600)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with (data / "postgresql.conf").open("a") as conf:
        conf.write(f"\nport = {port}\nlisten_addresses = '127.0.0.1'\nssl = on\nunix_socket_directories = '{data}'\n")
    (data / "pg_hba.conf").write_text("hostssl all all 127.0.0.1/32 trust\n")
    _as_postgres(str(BIN / "pg_ctl"), "-D", str(data), "-l", str(data / "log"), "-w", "start")
    try:
        stranger = write_dev_certificates(base / "other")
        yield port, pki.ca, stranger.ca
    finally:
        _as_postgres(str(BIN / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop")
        shutil.rmtree(base, ignore_errors=True)


def _url(port: int, ca: Path) -> str:
    return f"postgresql+psycopg://postgres@localhost:{port}/postgres?sslmode=verify-full&sslrootcert={ca}"


def test_hub_database_connection_verifies_the_server(tls_postgres: tuple[int, Path, Path]) -> None:
    port, ca, _ = tls_postgres
    engine = make_engine(_url(port, ca))
    with engine.connect() as conn:
        assert conn.execute(text("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")).scalar() is True
    engine.dispose()


def test_a_server_certificate_from_another_ca_is_refused(tls_postgres: tuple[int, Path, Path]) -> None:
    port, _, stranger = tls_postgres
    engine = make_engine(_url(port, stranger))
    started = time.monotonic()
    with pytest.raises(OperationalError, match=r"SSL error|certificate verify failed"), engine.connect():
        pass
    assert time.monotonic() - started < 30
    engine.dispose()
