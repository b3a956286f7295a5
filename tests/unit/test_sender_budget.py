"""A sender's budget of refusal records: a burst, then a steady rate; what goes over is counted, keys bounded."""

from __future__ import annotations

from hub.security.rate_limit import SenderBudget


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_burst_then_one_a_second_at_sixty_a_minute() -> None:
    clock = Clock()
    budget = SenderBudget(60, clock=clock)
    assert [budget.take("feed:a")[0] for _ in range(61)] == [True] * 60 + [False]
    assert budget.take("feed:a") == (False, 2)
    assert budget.take("feed:b") == (True, 0)  # another sender's budget is its own
    clock.now = 1.0
    assert budget.take("feed:a") == (True, 2)  # the record that follows says how many went unrecorded
    assert budget.take("feed:a") == (False, 1)


def test_keys_are_bounded_and_idle_ones_go_first() -> None:
    clock = Clock()
    budget = SenderBudget(2, clock=clock, max_keys=3)
    for key in ("a", "b", "c"):
        budget.take(key)
    budget.take("c")
    budget.take("c")  # over: c owes a count and is kept
    clock.now = 60.0  # a and b have filled up again
    assert budget.take("d") == (True, 0)
    assert budget.take("c") == (True, 1)
    assert len(budget._buckets) <= 3
