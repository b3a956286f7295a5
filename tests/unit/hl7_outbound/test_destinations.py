"""Destinations file: the example loads, and every kind of mistake is one DestinationConfigError."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from adapters.hl7.outbound.destinations import DestinationConfig, DestinationConfigError, load_destinations
from hub.config import DATA_DIR
from hub.domain.order_parts import Setting

EXAMPLE = DATA_DIR / "outbound-destinations.example.json"


def _write(tmp_path: Path, destinations: object) -> Path:
    path = tmp_path / "dest.json"
    path.write_text(json.dumps({"destinations": destinations}))
    return path


def _one(**overrides: object) -> dict[str, object]:
    return {"name": "ehr", "host": "127.0.0.1", "port": 6661, "events": ["prescription.received"], **overrides}


def test_the_example_file_loads() -> None:
    found = load_destinations(EXAMPLE)
    assert [d.name for d in found] == ["clinic-ehr", "ward-cabinet"]
    assert found[1].encoded_orders and found[1].settings == (Setting.INPATIENT,)


@pytest.mark.parametrize(
    "item",
    [
        _one(events=["claim.paid"]),
        _one(events=[]),
        _one(name="Has Spaces"),
        _one(port=0),
        _one(version="2.9"),
        _one(tls=True),
        _one(backoff_initial_s=10, backoff_max_s=1),
        _one(colour="blue"),
    ],
)
def test_invalid_destinations_are_refused(tmp_path: Path, item: dict[str, object]) -> None:
    with pytest.raises(DestinationConfigError):
        load_destinations(_write(tmp_path, [item]))


def test_duplicate_names_are_refused(tmp_path: Path) -> None:
    with pytest.raises(DestinationConfigError, match="unique"):
        load_destinations(_write(tmp_path, [_one(), _one(port=7000)]))


@pytest.mark.parametrize("text", ["", "not json", "[]", '{"destinations": {}}'])
def test_unreadable_files_are_refused(tmp_path: Path, text: str) -> None:
    path = tmp_path / "dest.json"
    path.write_text(text)
    with pytest.raises(DestinationConfigError):
        load_destinations(path)


def test_a_missing_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(DestinationConfigError, match="cannot read"):
        load_destinations(tmp_path / "absent.json")


def test_facility_and_setting_filters() -> None:
    config = DestinationConfig.model_validate(_one(facilities=["CLINIC"], settings=["inpatient"]))
    assert config.wants("inpatient", "CLINIC")
    assert not config.wants("outpatient", "CLINIC")
    assert not config.wants("inpatient", "OTHER")
    assert not config.wants(None, None)  # an event that cannot say where it belongs is not sent to a filtered one
    assert DestinationConfig.model_validate(_one()).wants(None, None)
