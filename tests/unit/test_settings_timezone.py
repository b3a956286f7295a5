"""RXHUB_PHARMACY_TIMEZONE: an IANA zone name, checked when the settings are read (start-up), UTC by default."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from pydantic import ValidationError

from hub.config import Settings

BASE = {"amqp_url": "amqp://guest:guest@127.0.0.1:5672/", "database_url": "sqlite://"}


def test_default_is_utc_and_a_zone_name_is_kept() -> None:
    assert Settings(**BASE).pharmacy_timezone == "UTC"  # type: ignore[arg-type]
    assert Settings(**BASE, pharmacy_timezone="America/Chicago").pharmacy_timezone == "America/Chicago"  # type: ignore[arg-type]


@pytest.mark.parametrize("name", ["America/Chicgo", "CST6CDT/x", "", "../../etc/passwd"])
def test_a_name_no_zone_has_stops_start_up_naming_the_setting(name: str) -> None:
    with pytest.raises(ValidationError) as caught:
        Settings(**BASE, pharmacy_timezone=name)  # type: ignore[arg-type]
    assert caught.value.errors()[0]["loc"] == ("pharmacy_timezone",)
    assert "not an IANA time zone name" in str(caught.value)


def test_rxhub_stops_with_one_line_and_exit_code_2() -> None:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("RXHUB_")}
    done = subprocess.run(
        [sys.executable, "-m", "hub.entrypoints.cli", "users", "list"],
        env={**clean, "RXHUB_PHARMACY_TIMEZONE": "Mars/Olympus"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "rxhub: configuration: pharmacy_timezone: 'Mars/Olympus' is not an IANA time zone name (e.g. America/Chicago)"
    ]
