"""Helpers for the SCRIPT connector tests: an endpoints file, a renewal request on script-out, a running connector."""

from __future__ import annotations

import json
import threading
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pika

from adapters.ncpdp.script.network_config import ScriptEndpoint, load_script_network
from adapters.ncpdp.script.network_connector import ScriptConnector
from adapters.ncpdp.script.outbound_messages import RENEWAL_REQUEST
from adapters.ncpdp.script.outbound_responder import SCRIPT_CONTENT_TYPE
from adapters.ncpdp.script.outbound_topology import ScriptOutTopology
from adapters.ncpdp.script.renewal_request import PharmacyIdentity, RenewalRequestInput, rx_renewal_request
from hub.domain.order_parts import DrugInfo, PatientInfo, PrescriberInfo, QuantityInfo
from hub.messaging.amqp_properties import raw_properties
from hub.messaging.headers import SCRIPT_TO_HEADER
from hub.messaging.held_delivery import DeliveryState
from hub.messaging.topology import Topology, declare

PRESCRIBER = "D:9988776655001"


def endpoints_file(folder: Path, **endpoint: Any) -> tuple[ScriptEndpoint, ...]:
    """Write an endpoints file with one endpoint and load it the way the hub does."""
    values = {
        "name": "surescripts-sim",
        "max_attempts": 30,
        "backoff_initial_s": 0.05,
        "backoff_max_s": 0.2,
        "timeout_s": 5,
        **endpoint,
    }
    path = folder / "script-network.json"
    path.write_text(json.dumps({"endpoints": [{k: str(v) if isinstance(v, Path) else v for k, v in values.items()}]}))
    return load_script_network(path)


def renewal_body(message_id: str, rx_number: str = "RX-1001") -> bytes:
    """A real RxRenewalRequest, as the responder writes it."""
    request = RenewalRequestInput(
        rx_number=rx_number,
        placer_order_number="ORDER-42",
        prescriber_address="9988776655001",
        prescriber=PrescriberInfo(family_name="Smith", given_name="Pat", npi="1234567893"),
        patient=PatientInfo(family_name="Doe", given_name="Alex", sex="M", birth_date=date(1970, 2, 3)),
        drug=DrugInfo(ndc="00000111122", text="Tramadol 50 MG Oral Tablet"),
        quantity=QuantityInfo(value=Decimal(30), unit="tablet"),
        pharmacy=PharmacyIdentity(ncpdp_id="7654321", name="Test Pharmacy"),
    )
    return rx_renewal_request(request, message_id=message_id, now=datetime.now(UTC))


def publish_renewal(amqp_url: str, topology: Topology, message_id: str, to: str = PRESCRIBER) -> None:
    """Put one RxRenewalRequest on script-out with the responder's properties, confirmed."""
    script = ScriptOutTopology.of(topology)
    connection = pika.BlockingConnection(pika.URLParameters(amqp_url))
    try:
        channel = connection.channel()
        declare(channel, script)
        channel.confirm_delivery()
        props = raw_properties(
            message_id,
            content_type=SCRIPT_CONTENT_TYPE,
            message_type=RENEWAL_REQUEST,
            correlation_id=None,
            headers={SCRIPT_TO_HEADER: to},
        )
        channel.basic_publish(
            script.script_out_exchange, RENEWAL_REQUEST, renewal_body(message_id), props, mandatory=True
        )
    finally:
        connection.close()


class RunningConnector:
    """A connector on a thread, stopped by ``close``."""

    def __init__(self, amqp_url: str, topology: Topology, endpoints: tuple[ScriptEndpoint, ...]) -> None:
        self.state = DeliveryState()
        self.stop = threading.Event()
        self.connector = ScriptConnector(amqp_url, topology, endpoints, self.state)
        self.thread = threading.Thread(target=self.connector.run, args=(self.stop,), daemon=True)
        self.thread.start()
        assert self.state.ready.wait(20), "connector never connected to the broker"

    def close(self) -> None:
        self.stop.set()
        self.thread.join(20)
