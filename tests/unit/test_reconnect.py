"""The reconnect loop: retries the broker's failures with growing pauses, and nothing else."""

from __future__ import annotations

import threading

import pytest

from hub.messaging.reconnect import keep_running, until_done


class _Stop(threading.Event):
    """A stop event that records the pauses asked of it instead of sleeping."""

    def __init__(self) -> None:
        super().__init__()
        self.pauses: list[float] = []

    def wait(self, timeout: float | None = None) -> bool:
        self.pauses.append(timeout or 0.0)
        return self.is_set()


def test_pauses_double_up_to_the_ceiling_and_start_over_after_a_run() -> None:
    stop, outcomes = _Stop(), [OSError] * 7 + [None, OSError]
    lost: list[BaseException] = []

    def run(_: threading.Event) -> None:
        outcome = outcomes.pop(0)
        if not outcomes:
            stop.set()
        if outcome is not None:
            raise outcome("broker gone")

    keep_running(run, stop, errors=(OSError,), lost=lost.append)

    assert len(lost) == 8
    assert stop.pauses == pytest.approx([0.2, 0.4, 0.8, 1.6, 3.2, 5.0, 5.0, 0.2])


def test_an_error_not_listed_ends_the_loop() -> None:
    def run(_: threading.Event) -> None:
        raise ValueError("a bug, not an outage")

    with pytest.raises(ValueError):
        keep_running(run, _Stop(), errors=(OSError,), lost=lambda exc: None)


def test_until_done_stops_at_the_first_success_or_at_stop() -> None:
    attempts = iter([OSError("down"), None])

    def attempt() -> None:
        if (error := next(attempts)) is not None:
            raise error

    failures: list[BaseException] = []
    assert until_done(attempt, _Stop(), errors=(OSError,), failed=failures.append)
    assert len(failures) == 1
    stopped = _Stop()
    stopped.set()
    assert not until_done(attempt, stopped, errors=(OSError,), failed=failures.append)
