"""``--copies`` and RXHUB_WORKER_COPIES: the setting was documented for ``rxhub run`` and read by nobody."""

from __future__ import annotations

import pytest

from hub.config import Settings
from hub.entrypoints.cli import _parser, copies


@pytest.mark.parametrize("command", [["run"], ["worker", "intake"]])
def test_the_setting_gives_the_copies_unless_the_flag_does(command: list[str]) -> None:
    settings = Settings(worker_copies=3)
    assert copies(_parser().parse_args(command), settings) == 3
    assert copies(_parser().parse_args([*command, "--copies", "2"]), settings) == 2
    assert copies(_parser().parse_args(command), Settings()) == 1
