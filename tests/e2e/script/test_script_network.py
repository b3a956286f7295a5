"""The whole hub with a SCRIPT network configured: the prescriber gets the CancelRxResponse over HTTPS (#29)."""

from __future__ import annotations

import json
from pathlib import Path

from lxml import etree

from adapters.ncpdp.script.network_simulator import NetworkBehaviour, ScriptNetworkSimulator
from hub.config import Settings
from hub.security.certs import write_dev_certificates
from tests.conftest import make_settings
from tests.e2e.script import messages
from tests.e2e.script.support import Answer, script_feed
from tests.support.waiting import eventually


def test_a_cancel_rx_is_answered_to_the_prescriber_through_the_network(
    amqp_url: str, sqlite_url: str, tmp_path: Path
) -> None:
    pki = write_dev_certificates(tmp_path / "pki", clients=("rxhub-pharmacy",))
    (tmp_path / "password").write_text("s3cret\n")
    network = ScriptNetworkSimulator(
        behaviour=NetworkBehaviour(authorization="Basic cGhhcm1hY3ktMTpzM2NyZXQ="),  # pharmacy-1:s3cret
        cert=pki.server_cert,
        key=pki.server_key,
        client_ca=pki.ca,
    ).start()
    cert, key = pki.clients["rxhub-pharmacy"]
    endpoint = {
        "name": "sim",
        "url": f"https://localhost:{network.port}/script",
        "ca_file": str(pki.ca),
        "cert_file": str(cert),
        "key_file": str(key),
        "auth": "basic",
        "username": "pharmacy-1",
        "password_file": str(tmp_path / "password"),
    }
    (tmp_path / "network.json").write_text(json.dumps({"endpoints": [endpoint]}))
    settings: Settings = make_settings(amqp_url, sqlite_url, script_network=tmp_path / "network.json")
    try:
        with script_feed(settings) as feed:
            assert Answer.of(feed.post(messages.new_rx("NEW-N1", "ORD-N1")).content).code == "010"
            assert Answer.of(feed.post(messages.cancel_rx("CAN-N1", "ORD-N1")).content).code == "010"
            row = feed.ph.by_placer("ORD-N1")
            feed.ph.wait_state(row.id, "cancelled")
            delivered = eventually(
                lambda: network.delivered("CancelRxResponse") or None, "the CancelRxResponse reached the network"
            )
    finally:
        network.stop()
    assert len(delivered) == 1 and delivered[0].client_cn == "rxhub-pharmacy"
    answer = Answer.of(delivered[0].body)
    assert (answer.response, answer.relates_to, answer.to) == ("Approved", "CAN-N1", messages.PRESCRIBER[1])
    assert etree.fromstring(delivered[0].body).findtext(".//{*}PrescriberOrderNumber") == "ORD-N1"
