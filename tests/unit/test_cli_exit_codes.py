"""The exit codes of ``rxhub``: the hub's exception tree and OS errors map to distinct codes."""

from __future__ import annotations

import errno

import pytest

from hub.entrypoints.exit_codes import ExitCode, classify
from hub.errors import BrokerUnavailable, ConfigurationError, DatabaseUnavailable, NotFound


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (ConfigurationError("x"), ExitCode.USAGE),
        (BrokerUnavailable("x"), ExitCode.BROKER),
        (DatabaseUnavailable("x"), ExitCode.DATABASE),
        (NotFound("x"), ExitCode.REFUSED),
        (FileNotFoundError(errno.ENOENT, "No such file or directory", "/x"), ExitCode.FILE),
        (PermissionError(errno.EACCES, "Permission denied", "/x"), ExitCode.FILE),
        (ConnectionRefusedError(errno.ECONNREFUSED, "Connection refused"), ExitCode.NETWORK),
        (KeyboardInterrupt(), ExitCode.INTERRUPTED),
        (RuntimeError("x"), ExitCode.BUG),
    ],
)
def test_the_exception_tree_and_os_errors_map_to_codes(error: BaseException, code: ExitCode) -> None:
    assert classify(error)[0] == code


def test_the_codes_are_distinct() -> None:
    values = [code.value for code in ExitCode]
    assert len(values) == len(set(values))
