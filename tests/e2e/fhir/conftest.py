"""One running hub (with payer simulator, staff and an EHR feed user) shared by a test module.

Every FHIR body the hub answers a ``FhirHub.client`` is checked by Medplum's R4 validator
(``tests.support.fhir_validator``): a test fails on the first resource that is not valid R4.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from hub.config import Settings
from hub.messaging.topology import Topology
from hub.persistence.users import UserStore
from tests.conftest import make_settings
from tests.support.events import EventSubscriber
from tests.support.fhir_validator import FhirValidator, fhir_validator, validating_hook
from tests.support.pharmacy import Pharmacy, pharmacy

FHIR_JSON = "application/fhir+json"


@dataclass
class FhirHub:
    """The running pharmacy and an authenticated FHIR client for the feed user."""

    ph: Pharmacy
    settings: Settings
    feed_token: str
    validator: FhirValidator

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.ph.hub.http_port}/fhir"

    def client(self, token: str | None = None) -> httpx.Client:
        """A client for /fhir, authenticated as the feed unless told otherwise ("" = anonymous)."""
        token = self.feed_token if token is None else token
        headers = {"Content-Type": FHIR_JSON, "Accept": FHIR_JSON}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return httpx.Client(
            base_url=self.base, timeout=30, headers=headers, event_hooks={"response": [validating_hook(self.validator)]}
        )

    def subscriber(self, pattern: str = "prescription.#") -> EventSubscriber:
        """A subscriber bound to the public events before anything is posted."""
        return EventSubscriber(
            self.settings.amqp_url.get_secret_value(), Topology(self.settings.broker_prefix).events_exchange, pattern
        )


@pytest.fixture(scope="module")
def fhir_hub(
    amqp_url: str, tmp_path_factory: pytest.TempPathFactory, fhir_validator: FhirValidator
) -> Iterator[FhirHub]:
    """A retail-ready hub (default BIN for the simulated payer) for the whole module."""
    tmp: Path = tmp_path_factory.mktemp("fhir-hub")
    settings = make_settings(
        amqp_url,
        f"sqlite:///{tmp / 'rxhub.sqlite3'}",
        default_bin="999001",
        default_pcn="RXHUB",
        default_group="GRP1",
        payer_timeout_ms=3000,
    )
    with pharmacy(settings) as ph:
        _, token = UserStore(ph.engine).add("ehr-feed", "feed")
        yield FhirHub(ph, settings, token, fhir_validator)


__all__ = ["FHIR_JSON", "FhirHub", "fhir_hub", "fhir_validator", "issues"]


def issues(outcome: dict[str, Any]) -> list[tuple[str, str, list[str] | None]]:
    """(severity, code, expression) of every issue of an OperationOutcome."""
    assert outcome["resourceType"] == "OperationOutcome", outcome
    return [(i["severity"], i["code"], i.get("expression")) for i in outcome["issue"]]
