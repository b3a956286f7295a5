"""RXHUB_EVENT_SOURCE: set, it wins; unset or empty, it names the pharmacy by its NCPDP id."""

from __future__ import annotations

import pytest

from hub.config import Settings


@pytest.fixture(autouse=True)
def _no_rxhub_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("RXHUB_EVENT_SOURCE", "RXHUB_PHARMACY_NCPDP_ID"):
        monkeypatch.delenv(name, raising=False)


def test_unset_it_is_derived_from_the_pharmacy(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings().event_source == "urn:rxhub:ncpdp:9999991"
    monkeypatch.setenv("RXHUB_PHARMACY_NCPDP_ID", "1234567")
    assert Settings().event_source == "urn:rxhub:ncpdp:1234567"
    monkeypatch.setenv("RXHUB_EVENT_SOURCE", "")
    assert Settings().event_source == "urn:rxhub:ncpdp:1234567"


def test_set_it_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RXHUB_PHARMACY_NCPDP_ID", "1234567")
    monkeypatch.setenv("RXHUB_EVENT_SOURCE", "urn:example:store-7")
    assert Settings().event_source == "urn:example:store-7"
    assert Settings(event_source="https://pharmacy.example/rxhub").event_source == "https://pharmacy.example/rxhub"
