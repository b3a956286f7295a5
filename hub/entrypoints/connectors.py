"""The connectors the workers run once configured: SCRIPT to the prescribers' network, FHIR renewal Tasks
to the EHRs, claims to payer switches (``RXHUB_SWITCH_ROUTES``). Each runs on a thread of the worker process
until the workers' ``stop`` is set."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from sqlalchemy import Engine

from adapters.fhir.renewal_requests import RequestingPharmacy
from adapters.fhir.renewal_sender import load_fhir_renewals, run_fhir_renewals
from adapters.ncpdp.script.network_config import load_script_network
from adapters.ncpdp.script.network_connector import run_script_connector
from adapters.ncpdp.switch import SwitchConnector, load_routing_table
from hub.config import Settings
from hub.messaging.held_delivery import DeliveryState
from hub.messaging.topology import Topology
from hub.persistence.queries import SqlPrescriptionQueries


@dataclass
class Connectors:
    """The started connectors' live state (None: not configured) and threads."""

    script: DeliveryState | None = None
    fhir_renewals: DeliveryState | None = None
    threads: list[threading.Thread] = field(default_factory=list)


def start_connectors(
    settings: Settings, engine: Engine, url: str, topology: Topology, stop: threading.Event
) -> Connectors:
    """Start every configured connector on a daemon thread."""
    started = Connectors()
    if settings.script_network is not None:
        started.script = DeliveryState()
        endpoints = load_script_network(settings.script_network)
        started.threads.append(
            threading.Thread(
                target=run_script_connector,
                args=(url, topology, endpoints, stop),
                kwargs={"state": started.script},
                name="script-connector",
                daemon=True,
            )
        )
    if settings.fhir_renewals is not None:
        started.fhir_renewals = DeliveryState()
        pharmacy = RequestingPharmacy(
            name=settings.pharmacy_name, npi=settings.pharmacy_npi, ncpdp_id=settings.pharmacy_ncpdp_id
        )
        started.threads.append(
            threading.Thread(
                target=run_fhir_renewals,
                args=(url, topology, load_fhir_renewals(settings.fhir_renewals), SqlPrescriptionQueries(engine), stop),
                kwargs={"pharmacy": pharmacy, "state": started.fhir_renewals},
                name="fhir-renewals",
                daemon=True,
            )
        )
    if settings.switch_routes is not None:
        switch = SwitchConnector(url, topology, load_routing_table(settings.switch_routes), engine)
        started.threads.append(threading.Thread(target=switch.run, args=(stop,), name="switch-connector", daemon=True))
    for thread in started.threads:
        thread.start()
    return started
