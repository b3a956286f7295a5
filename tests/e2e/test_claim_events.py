"""What subscribers hear about a claim the payer did not answer: status unknown, reversed, paid again."""

from __future__ import annotations

import json

import jsonschema

from adapters.ncpdp.payer.config import load_payer_config
from hub.messaging.topology import Topology
from tests.e2e.test_claims import AMOXICILLIN, LosesFirstAnswer, _order, _settings
from tests.e2e.test_specs import ASYNCAPI, payload_schema
from tests.support.events import EventSubscriber
from tests.support.pharmacy import pharmacy


def test_a_paid_claim_the_hub_reversed_is_published_as_reversed(amqp_url: str, sqlite_url: str) -> None:
    settings = _settings(amqp_url, sqlite_url)
    sub = EventSubscriber(amqp_url, Topology(settings.broker_prefix).events_exchange, "claim.#")
    try:
        with pharmacy(settings, simulator=LosesFirstAnswer(load_payer_config(settings.payer_sim_config))) as ph:
            pid = _order(ph, AMOXICILLIN)
            ph.wait_state(pid, "data_verification")
            sub.collect(lambda events: any(e["type"] == "claim.paid" for e in events), timeout_s=60)
    finally:
        sub.close()
    mine = [e for e in sub.events if e["data"]["prescription_id"] == pid]
    assert [e["type"] for e in mine] == [
        "claim.submitted",
        "claim.status_unknown",
        "claim.reversed",
        "claim.submitted",
        "claim.paid",
    ]
    unknown, reversed_ = mine[1]["data"], mine[2]["data"]
    assert unknown["attempt"] == 1 and "no answer" in unknown["payer_message"]
    assert reversed_["reason"] == "status_unknown"
    assert not [e for e in mine if e["type"] == "claim.rejected"], "a timeout is no payer's reject"
    document = json.loads(ASYNCAPI.read_text())  # as docs/asyncapi.json describes them
    for event in mine:
        jsonschema.validate(
            event, payload_schema(document, event["type"]), format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER
        )
