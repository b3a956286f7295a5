"""What ``rxhub`` exits with when a command fails, and the one line it prints on stderr.

Scripts and supervisors branch on the exit code, people read the line; a traceback only helps a developer,
so it is printed only with ``rxhub --debug``. The codes (README, "Exit codes"):

    0   done
    1   the command ran and the answer is no (a NAK from the hub, a broken audit chain, no such user)
    2   usage or configuration: a bad argument, setting or configuration file
    3   a file named on the command line or in a setting cannot be read or written
    4   refused: the data asked for breaks a rule or names something that does not exist
    5   the broker (RabbitMQ) cannot be reached or refused the login
    6   the database cannot be reached, refused the login, or its schema is not this version's
    7   the network: a host or port given (the hub's MLLP port for ``rxhub send``) cannot be reached
    70  a bug: an error nobody expected (run again with --debug for the traceback)
    130 interrupted (Ctrl-C)
"""

from __future__ import annotations

import enum
import errno

import pika.exceptions
import sqlalchemy.exc
from alembic.util.exc import CommandError
from pydantic import ValidationError

from hub.entrypoints.preflight import one_line as folded
from hub.errors import (
    BrokerUnavailable,
    ConfigurationError,
    DatabaseUnavailable,
    DomainError,
    InboundMessageError,
    InfrastructureError,
    RxHubError,
)


class ExitCode(enum.IntEnum):
    """The process exit codes of ``rxhub``; documented in README.md."""

    OK = 0
    NO = 1
    USAGE = 2
    FILE = 3
    REFUSED = 4
    BROKER = 5
    DATABASE = 6
    NETWORK = 7
    BUG = 70
    INTERRUPTED = 130


def classify(exc: BaseException) -> tuple[ExitCode, str]:
    """The exit code for ``exc`` and what the one line says before its message."""
    if isinstance(exc, KeyboardInterrupt):
        return ExitCode.INTERRUPTED, "interrupted"
    if (kind := _ours(exc)) is not None:
        return kind
    if (kind := _third_party(exc)) is not None:
        return kind
    if isinstance(exc, OSError):
        return _os_error(exc)
    if isinstance(exc, ValueError | OverflowError):  # a value a command cannot use (a role, a date too far)
        return ExitCode.USAGE, "invalid value"
    return ExitCode.BUG, f"internal error ({type(exc).__name__}; run with --debug for the traceback)"


def one_line(exc: BaseException) -> str:
    """``exc`` as one line: pydantic's report folded, whitespace collapsed."""

    if isinstance(exc, sqlalchemy.exc.DBAPIError) and exc.orig is not None:
        exc = exc.orig  # the driver's own words, without the SQL statement and its parameters
    if isinstance(exc, OSError) and exc.strerror and exc.filename is not None:
        return f"{exc.strerror}: {exc.filename}"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return folded(exc) or type(exc).__name__


def _ours(exc: BaseException) -> tuple[ExitCode, str] | None:
    if isinstance(exc, (ConfigurationError, ValidationError)):
        return ExitCode.USAGE, "configuration"
    if isinstance(exc, BrokerUnavailable) and (refused := _third_party(exc.__cause__)) is not None:
        return refused  # the login or vhost refused, not the broker down
    if isinstance(exc, BrokerUnavailable):
        return ExitCode.BROKER, "broker unreachable"
    if isinstance(exc, DatabaseUnavailable):
        return ExitCode.DATABASE, "database unreachable"
    if isinstance(exc, InfrastructureError):
        return ExitCode.BROKER, "broker"
    if isinstance(exc, (DomainError, InboundMessageError, RxHubError)):
        return ExitCode.REFUSED, "refused"
    return None


def _third_party(exc: BaseException | None) -> tuple[ExitCode, str] | None:
    """pika's and SQLAlchemy's errors, translated here at the edge (the stores raise them as they are)."""
    if isinstance(exc, pika.exceptions.ProbableAuthenticationError | pika.exceptions.ProbableAccessDeniedError):
        return ExitCode.BROKER, "broker refused the login"
    if isinstance(exc, pika.exceptions.AMQPError):
        return ExitCode.BROKER, "broker unreachable"
    if exc is None:
        return None
    if isinstance(exc, sqlalchemy.exc.IntegrityError):
        return ExitCode.REFUSED, "refused (already exists)"
    if isinstance(exc, sqlalchemy.exc.ArgumentError):
        return ExitCode.USAGE, "configuration: RXHUB_DATABASE_URL"
    if isinstance(exc, sqlalchemy.exc.DBAPIError | sqlalchemy.exc.InterfaceError):
        return ExitCode.DATABASE, "database unreachable"
    if isinstance(exc, CommandError):
        return ExitCode.DATABASE, "database schema"
    return None


def _os_error(exc: OSError) -> tuple[ExitCode, str]:
    if isinstance(exc, ConnectionError | TimeoutError) or exc.errno in (
        errno.EHOSTUNREACH,
        errno.ENETUNREACH,
        errno.ECONNREFUSED,
    ):
        return ExitCode.NETWORK, "cannot connect"
    if exc.filename is not None or isinstance(exc, FileNotFoundError | PermissionError | IsADirectoryError):
        return ExitCode.FILE, "file"
    return ExitCode.NETWORK, "system"
