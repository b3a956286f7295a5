"""``rxhub switch-sim``, ``rxhub switch-connector`` and ``rxhub claims reconcile`` as an operator runs them."""

from __future__ import annotations

import json
import subprocess
import uuid
from pathlib import Path

import pika

from adapters.ncpdp.payer_link import D0ClaimCodec, claim_properties
from adapters.ncpdp.payer_link.responses import read_answer
from hub.config import Settings
from hub.entrypoints.runtime import topology_for
from hub.persistence.claims import ClaimLedger
from hub.persistence.database import create_schema, make_engine
from tests.conftest import make_settings
from tests.support.processes import RXHUB, consumers, free_port, hub_env, stop, wait_for
from tests.unit.ncpdp_payer_link.claim_data import claim


def _settings(amqp_url: str, tmp_path: Path) -> Settings:
    return make_settings(amqp_url, f"sqlite:///{tmp_path / 'hub.db'}")


def test_a_claim_through_the_switch_processes(amqp_url: str, tmp_path: Path) -> None:
    settings = _settings(amqp_url, tmp_path)
    port = free_port()
    routes = tmp_path / "routes.json"
    routes.write_text(
        json.dumps(
            {
                "switches": [{"name": "sim", "host": "127.0.0.1", "port": port}],
                "routes": [{"bin": "999001", "switch": "sim"}],
            }
        )
    )
    env = {**hub_env(settings, free_port(), free_port()), "RXHUB_SWITCH_ROUTES": str(routes)}
    sim = subprocess.Popen([*RXHUB, "switch-sim", "--port", str(port)], env=env, text=True)
    connector = subprocess.Popen([*RXHUB, "switch-connector"], env=env, text=True)
    topology = topology_for(settings)
    try:
        wait_for(lambda: consumers(amqp_url, f"{topology.prefix}.switch-connector"), "the connector consuming")
        engine = make_engine(settings.database_url.get_secret_value())
        create_schema(engine)
        data = claim(f"rx-{uuid.uuid4().hex[:8]}")
        with engine.begin() as conn:
            ClaimLedger(conn).sent(
                exchange_id=data.exchange_id,
                prescription_id=data.prescription_id,
                fill_number=0,
                attempt=1,
                transaction="B1",
                purpose="billing",
                resends=0,
            )
        encoded = D0ClaimCodec().encode(data)
        connection = pika.BlockingConnection(pika.URLParameters(amqp_url))
        channel = connection.channel()
        props = claim_properties(data.exchange_id, uuid.uuid4(), topology.payer_responses_queue)
        channel.basic_publish(topology.payer_exchange, encoded.routing_key, encoded.body, props)

        def answer() -> tuple[pika.BasicProperties, bytes] | None:
            method, answer_props, body = channel.basic_get(topology.payer_responses_queue, auto_ack=True)
            return (answer_props, body) if method is not None else None

        answer_props, body = wait_for(answer, "the switch's answer")
        connection.close()
        assert answer_props.correlation_id == data.exchange_id
        assert read_answer(body, "B1").status == "P"
    finally:
        stop(sim, connector)
    with engine.connect() as conn:
        assert [n.event for n in ClaimLedger(conn).wire_log(data.prescription_id)] == ["transmitting", "answered"]
    reconciled = subprocess.run([*RXHUB, "claims", "reconcile"], env=env, text=True, capture_output=True)
    # no claim worker ran here: the ledger holds one unanswered claim and no answers, nothing to disagree on
    assert reconciled.returncode == 0, reconciled.stdout + reconciled.stderr
    assert "0 disagreement(s)" in reconciled.stdout


def test_the_connector_needs_a_routing_file(amqp_url: str, tmp_path: Path) -> None:
    settings = _settings(amqp_url, tmp_path)
    done = subprocess.run(
        [*RXHUB, "switch-connector"], env=hub_env(settings, free_port(), free_port()), text=True, capture_output=True
    )
    assert done.returncode == 2
    assert "RXHUB_SWITCH_ROUTES is not set" in done.stdout
