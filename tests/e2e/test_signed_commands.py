"""Workers apply only commands a hub process signed: a forgery published with broker credentials (guest,
straight to the commands exchange) is dead-lettered as ``unauthenticated``, audited and never applied."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import pika

from hub.config import Settings
from hub.domain.order_parts import Source
from hub.domain.workflow_commands import RecordVerification
from hub.entrypoints.mllp_client import MllpClient
from hub.entrypoints.runtime import topology_for
from hub.messaging.amqp_properties import command_properties
from hub.messaging.dead_letters import DeadLetter, DeadLetterQueue
from hub.messaging.envelope import Envelope
from hub.persistence.audit import AuditEntry, AuditTrail
from hub.persistence.users import UserStore
from hub.security.command_signing import SIGNATURE_HEADER, CommandKeys, new_key
from tests.support.pharmacy import pharmacy
from tests.support.signing import hub_keys, signed

SAMPLE = Path(__file__).resolve().parents[2] / "samples" / "hl7" / "02_rde_o11_inpatient_lisinopril.hl7"
T = TypeVar("T")


def _until(probe: Callable[[], T], timeout_s: float = 20.0) -> T:
    deadline = time.monotonic() + timeout_s
    while not (found := probe()):
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)
    return found


def _approval(prescription_id: str, pharmacist_id: str, correlation_id: str) -> Envelope:
    """What the staff API publishes when a pharmacist approves data verification."""
    return Envelope.wrap(
        RecordVerification(prescription_id=prescription_id, stage="data", approve=True),
        correlation_id=uuid.UUID(correlation_id),
        source=Source.API,
        message_id=uuid.uuid4(),
        actor=pharmacist_id,
        principal="user:paul.pharm",
    )


def _forgeries(approval: Callable[[], Envelope], keys: CommandKeys) -> list[tuple[str, bytes, pika.BasicProperties]]:
    """(what, body, properties): no signature; a key of the attacker's own; a genuine signature over other bytes."""
    unsigned = approval()
    foreign = approval()
    altered = approval()
    genuine = keys.sign(altered.model_copy(update={"payload": {**altered.payload, "approve": False}}).to_bytes())
    return [
        ("unsigned", unsigned.to_bytes(), command_properties(unsigned)),
        ("wrong key", *signed(foreign, CommandKeys([new_key()]))),
        ("altered", altered.to_bytes(), command_properties(altered, {SIGNATURE_HEADER: genuine})),
    ]


def _publish(amqp_url: str, exchange: str, messages: list[tuple[bytes, pika.BasicProperties]]) -> None:
    """Straight to the broker as the guest account, as anyone holding broker credentials can."""
    connection = pika.BlockingConnection(pika.URLParameters(amqp_url))
    try:
        channel = connection.channel()
        channel.confirm_delivery()
        for body, props in messages:
            channel.basic_publish(exchange, "RecordVerification", body, props, mandatory=True)
    finally:
        connection.close()


def _dlq_list(settings: Settings, kind: str) -> list[dict[str, object]]:
    """``rxhub dlq list --kind KIND --json``, as an operator runs it."""
    env = {
        **os.environ,
        "RXHUB_AMQP_URL": settings.amqp_url.get_secret_value(),
        "RXHUB_BROKER_PREFIX": settings.broker_prefix,
    }
    done = subprocess.run(
        [sys.executable, "-m", "hub.entrypoints.cli", "dlq", "list", "--kind", kind, "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return list(json.loads(done.stdout))


def _refused(dlq: DeadLetterQueue, count: int, replays: int = 0) -> list[DeadLetter]:
    letters = [x for x in dlq.list() if x.failure_kind == "unauthenticated" and x.replays == replays]
    return letters if len(letters) == count else []


def test_forged_commands_are_dead_lettered_audited_and_not_applied(settings: Settings) -> None:
    amqp_url = settings.amqp_url.get_secret_value()
    topology = topology_for(settings)
    dlq = DeadLetterQueue(amqp_url, topology)
    with pharmacy(settings) as ph:
        with MllpClient("127.0.0.1", ph.hub.mllp_port) as client:
            assert b"MSA|AA" in client.send(SAMPLE.read_bytes())
        row = ph.wait_state(ph.by_placer("PLC1002").id, "data_verification")
        pharmacist = next(u for u, _ in UserStore(ph.engine).list() if u.role == "pharmacist")
        keys = hub_keys(settings)

        def approval() -> Envelope:
            return _approval(row.id, pharmacist.id, row.correlation_id)

        forgeries = _forgeries(approval, keys)
        _publish(amqp_url, topology.commands_exchange, [(body, props) for _, body, props in forgeries])
        letters = _until(lambda: _refused(dlq, 3))
        assert {x.message_id for x in letters} == {props.message_id for _, _, props in forgeries}
        assert all(x.queue == topology.work_queue("verification") and x.retries == 0 for x in letters)
        errors = sorted(x.error for x in letters)
        assert all(e.startswith("UnauthenticatedCommand: ") for e in errors)
        assert any("no x-rxhub-signature" in e for e in errors)
        assert any("unknown key id" in e for e in errors)
        assert any("does not match the body" in e for e in errors)

        def audited() -> list[AuditEntry]:
            entries = [e for e in AuditTrail(ph.engine).query(actor="anonymous") if e.outcome == "unauthenticated"]
            return entries if len(entries) == 3 else []

        entries = _until(audited)
        assert {e.action for e in entries} == {"consume RecordVerification"}
        assert all(e.role == "none" and e.prescription_id is None and e.patient_id is None for e in entries)
        assert {e.detail["message_id"] for e in entries} == {x.message_id for x in letters}
        assert all(e.detail["queue"] == topology.work_queue("verification") for e in entries)
        assert {(e.detail["claimed_actor"], e.detail["claimed_principal"]) for e in entries} == {
            (pharmacist.id, "user:paul.pharm")
        }
        assert ph.wait_state(row.id, "data_verification").version == row.version, "no forgery was applied"

        # an operator lists them by kind; a replay sends them back as they came, and they are refused again
        assert len(_dlq_list(settings, "unauthenticated")) == 3
        assert _dlq_list(settings, "domain_rule") == []
        assert len(dlq.replay(failure_kind="unauthenticated")) == 3
        assert len(_until(lambda: _refused(dlq, 3, replays=1))) == 3
        assert ph.wait_state(row.id, "data_verification").version == row.version

        # the same approval signed with the hub's key is applied (no stock: the fill waits for it)
        _publish(amqp_url, topology.commands_exchange, [signed(approval(), keys)])
        approved = ph.wait_state(row.id, "filling")
    assert approved.document["fills"][0]["data_verified_by"] == pharmacist.id
    assert len(dlq.list()) == 3
