"""The published specs validate: the served /openapi.json (openapi-spec-validator), docs/asyncapi.json (the
official AsyncAPI parser, tests/node) and real events against their message's payload schema (jsonschema)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import jsonschema
from openapi_spec_validator import validate

from hub.config import Settings
from hub.entrypoints.mllp_client import MllpClient
from hub.messaging.topology import Topology
from tests.support.events import EventSubscriber
from tests.support.pharmacy import pharmacy

ROOT = Path(__file__).resolve().parents[2]
ASYNCAPI = ROOT / "docs" / "asyncapi.json"
NODE = ROOT / "tests" / "node"
SAMPLE = ROOT / "samples" / "hl7" / "01_rde_o11_retail_amoxicillin.hl7"


def payload_schema(document: dict[str, Any], event_type: str) -> dict[str, Any]:
    """The message payload of ``event_type``, with the components its ``$ref``s point to."""
    payload = document["channels"][event_type]["subscribe"]["message"]["payload"]
    return {**payload, "components": document["components"]}


def test_served_openapi_and_real_events_validate(settings: Settings) -> None:
    document = json.loads(ASYNCAPI.read_text())
    settings = settings.model_copy(update={"default_bin": "999001"})
    with pharmacy(settings) as ph:
        validate(ph.client("admin").get("/openapi.json").json())
        subscriber = EventSubscriber(
            settings.amqp_url.get_secret_value(), Topology(settings.broker_prefix).events_exchange, "#"
        )
        try:
            with MllpClient("127.0.0.1", ph.hub.mllp_port) as client:
                client.send(SAMPLE.read_bytes())
            ph.wait_state(ph.by_placer("PLC1001").id, "data_verification")
            subscriber.drain(quiet_s=1.5)
        finally:
            subscriber.close()
    assert len({e["type"] for e in subscriber.events}) >= 2
    for event in subscriber.events:
        jsonschema.validate(
            event, payload_schema(document, event["type"]), format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER
        )


def test_asyncapi_passes_the_official_parser() -> None:
    node = shutil.which("node")
    assert node, "Node.js is needed (Debian's nodejs)"
    assert (NODE / "node_modules" / "@asyncapi" / "parser").is_dir(), "run scripts/ensure-node-tools.sh"
    result = subprocess.run(
        [node, str(NODE / "validate-asyncapi.mjs"), str(ASYNCAPI)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
