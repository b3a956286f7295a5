"""docs/configuration.md is generated from hub/config.py: complete and current."""

from __future__ import annotations

from pathlib import Path

from hub.config import Settings
from hub.entrypoints import config_reference

ROOT = Path(__file__).resolve().parents[2]


def test_every_setting_has_a_description() -> None:
    assert config_reference.missing() == [], "add a #: comment above each of these settings in hub/config.py"


def test_the_reference_is_current() -> None:
    written = (ROOT / config_reference.REFERENCE).read_text(encoding="utf-8")
    assert written == config_reference.render(), "run: python -m hub.entrypoints.config_reference"
    for name in Settings.model_fields:
        assert f"`RXHUB_{name.upper()}`" in written
