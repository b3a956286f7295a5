"""Engine creation for SQLite (embedded default) and PostgreSQL, with the settings each needs."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import orjson
from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import CursorResult, make_url
from sqlalchemy.exc import InterfaceError, InvalidatePoolError, OperationalError
from sqlalchemy.pool import ConnectionPoolEntry, PoolProxiedConnection

from hub.errors import DatabaseUnavailable

log = logging.getLogger(__name__)

READ_ONLY = "rxhub_read_only"
#: a pooled PostgreSQL connection idle longer than this is pinged before use; one back in the pool sooner is
#: trusted (SQLAlchemy's pool_pre_ping pinged at every checkout: a round trip and a statement per transaction,
#: 3-4% of the listener's CPU under load, and a restart or a terminated backend is caught the same way)
PING_IDLE_S = 1.0
_RETURNED_AT = "rxhub_returned_at"


def wait_until_reachable(engine: Engine, wait_s: float) -> None:
    """Return once the database answers; DatabaseUnavailable when it has not within ``wait_s``.

    A process restarted during a failover, or started before its database, waits rather than exits: a
    supervisor that gives up after a few quick exits would leave it down once the database is back.
    """
    deadline = time.monotonic() + wait_s
    pause, said = 0.25, 0.0
    while True:
        try:
            with engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            return
        except (OperationalError, InterfaceError) as exc:
            left = deadline - time.monotonic()
            if left <= 0:
                raise DatabaseUnavailable(f"database unreachable for {wait_s:.0f}s: {type(exc.orig).__name__}") from exc
            if time.monotonic() - said >= 5:  # one line every few seconds, not one per try
                log.warning("database unreachable (%s); waiting up to %.0fs more", type(exc.orig).__name__, left)
                said = time.monotonic()
            time.sleep(min(pause, left))
            pause = min(pause * 2, 2.0)


def make_engine(url: str) -> Engine:
    """Create an engine; SQLite gets WAL and a busy timeout so worker threads wait instead of failing."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            _private_file(Path(parsed.database))
        engine = create_engine(
            url,
            connect_args={"timeout": 30, "check_same_thread": False, "isolation_level": None},
            json_serializer=_json_text,
            json_deserializer=orjson.loads,
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    engine = create_engine(
        url, pool_size=10, max_overflow=10, json_serializer=orjson.dumps, json_deserializer=orjson.loads
    )
    _ping_when_idle(engine)
    return engine


def _private_file(path: Path) -> None:
    """The SQLite file (patient data) readable by its owner only: made 0600 before SQLite opens it, and an
    existing one narrowed to 0600; its -wal and -shm files take the same mode from it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.close(os.open(path, os.O_CREAT | os.O_RDWR, 0o600))
        for file in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
            if file.exists() and file.stat().st_mode & 0o077:
                file.chmod(0o600)
    except OSError:  # a database someone else owns, or on a read-only medium: SQLite says what is wrong
        return


def _ping_when_idle(engine: Engine) -> None:
    """Check a connection on checkout only when it sat in the pool past ``PING_IDLE_S``.

    A dead one (database restarted, backend terminated) invalidates the whole pool, as pool_pre_ping does, so
    its siblings are replaced too. A connection that dies within the second after its last use fails its next
    statement instead: that transaction is retried like any other database error (a redelivery, a 503).
    """
    dialect = engine.dialect

    def returned(_dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
        record.info[_RETURNED_AT] = time.monotonic()

    def checkout(dbapi_connection: Any, record: ConnectionPoolEntry, _proxy: PoolProxiedConnection) -> None:
        at = record.info.get(_RETURNED_AT)
        if at is None or time.monotonic() - at < PING_IDLE_S:  # just connected, or just used
            return
        try:
            dialect.do_ping(dbapi_connection)
        except dialect.loaded_dbapi.Error as exc:
            if dialect.is_disconnect(exc, dbapi_connection, None):
                raise InvalidatePoolError(f"pooled connection found dead after {PING_IDLE_S} s idle") from exc
            raise

    event.listen(engine, "checkin", returned)
    event.listen(engine, "checkout", checkout)


def _json_text(value: Any) -> str:
    # orjson: the JSON columns (a prescription document is 4 KB, written at every step) cost a fifth of
    # what the standard library's encoder and decoder do; SQLite stores text, psycopg takes the bytes
    return orjson.dumps(value).decode()


def _sqlite_begin(conn: Connection) -> None:
    # A writer takes the lock up front (BEGIN IMMEDIATE): a deferred transaction that later writes fails at
    # once with "database is locked" when another holds it. Readers must not: in WAL mode they never block.
    read_only = conn.get_execution_options().get(READ_ONLY, False)
    conn.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


def execute_rows(conn: Connection, statement: Any, rows: Sequence[dict[str, Any]]) -> CursorResult[Any]:
    """Execute ``statement`` for each of ``rows`` in one call; a single row as a plain execute, since an
    executemany costs a pipeline on psycopg (and one row is the usual case on several write paths)."""
    return conn.execute(statement, rows[0] if len(rows) == 1 else list(rows))


def read_connection(engine: Engine) -> Connection:
    """A connection for reads only: on SQLite it does not queue behind writers (use as a context manager)."""
    return engine.connect().execution_options(**{READ_ONLY: True})


def lookup_connection(engine: Engine) -> Connection:
    """A read connection a lane holds for single SELECTs: on PostgreSQL in autocommit, without a BEGIN and
    a COMMIT round trip around each one (on SQLite the lane ends each read with a rollback)."""
    conn = read_connection(engine)
    if conn.dialect.name == "postgresql":
        conn = conn.execution_options(isolation_level="AUTOCOMMIT")
    return conn


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config() -> Config:
    """Alembic's configuration, pointing at the migrations shipped in the package."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def create_schema(engine: Engine) -> None:
    """Bring the schema up to date with Alembic (idempotent; concurrent starts wait for each other)."""
    config = alembic_config()
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            # several processes start at once: one migrates, the others wait and then find nothing to do
            conn.exec_driver_sql("SELECT pg_advisory_xact_lock(727001)")
        config.attributes["connection"] = conn
        command.upgrade(config, "head")
