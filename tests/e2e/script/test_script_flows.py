"""The SCRIPT door end to end: dedupe, unsafe XML, CancelRx answered now or later, renewals, broker down."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest
from lxml import etree

from hub.config import Settings
from hub.messaging.topology import Topology
from hub.persistence.prescriptions import PrescriptionRow
from tests.conftest import make_settings
from tests.e2e.script import messages
from tests.e2e.script.support import Answer, ScriptFeed, script_feed, script_responder
from tests.support.events import EventSubscriber

PRESCRIBER_KEY = f"{messages.PRESCRIBER[0]}:{messages.PRESCRIBER[1]}"


@pytest.fixture
def paying_settings(amqp_url: str, sqlite_url: str) -> Settings:
    """A house plan the payer simulator pays, so an order can be walked to the will-call bin."""
    return make_settings(
        amqp_url,
        sqlite_url,
        default_bin="999001",
        default_pcn="RXHUB",
        default_group="GRP1",
        payer_timeout_ms=3000,
    )


def _subscriber(settings: Settings, pattern: str = "prescription.#") -> EventSubscriber:
    return EventSubscriber(
        settings.amqp_url.get_secret_value(), Topology(settings.broker_prefix).events_exchange, pattern
    )


def _walk_to_dispensed(feed: ScriptFeed, message_id: str, order: str) -> PrescriptionRow:
    ph = feed.ph
    r = ph.client("technician").post(
        "/api/inventory", json={"ndc": "00093005801", "lot": "LOT-S", "expiry": "2030-01-31", "quantity": "500"}
    )
    assert r.status_code == 202, r.text
    assert Answer.of(feed.post(messages.new_rx(message_id, order)).content).code == "010"
    row = ph.by_placer(order)
    for stage, state in (("data", "data_verification"), ("product", "product_verification")):
        ph.wait_state(row.id, state)
        r = ph.client("pharmacist").post(f"/api/prescriptions/{row.id}/{stage}-verification", json={"approve": True})
        assert r.status_code == 202, r.text
    ph.wait_state(row.id, "ready")
    assert ph.client("technician").post(f"/api/prescriptions/{row.id}/dispense").status_code == 202
    return ph.wait_state(row.id, "dispensed")


def test_a_resend_gets_the_same_answer_and_publishes_nothing_twice(settings: Settings) -> None:
    sub = _subscriber(settings, "prescription.received")
    try:
        with script_feed(settings) as feed:
            first = feed.post(messages.new_rx("DUP-1", "ORD-DUP"))
            # a resender may restamp SentTime; it is still the same message
            again = feed.post(messages.new_rx("DUP-1", "ORD-DUP", sent="2026-01-15T09:45:00Z"))
            other = feed.post(messages.new_rx("DUP-1", "ORD-OTHER"))
            sub.collect(lambda ev: len(ev) >= 1)
            sub.drain(quiet_s=1.5)
    finally:
        sub.close()
    assert Answer.of(first.content).code == "010"
    assert again.content == first.content
    refused = Answer.of(other.content)
    assert (refused.kind, refused.code) == ("Error", "900")
    assert refused.description and "already used" in refused.description
    assert [e["data"]["placer_order_number"] for e in sub.events] == ["ORD-DUP"]


def test_external_entities_are_refused_and_nothing_is_published(settings: Settings, tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET")
    xxe = (
        messages.new_rx("XXE-1", "ORD-XXE")
        .replace(
            b'<?xml version="1.0" encoding="UTF-8"?>\n',
            f'<?xml version="1.0"?>\n<!DOCTYPE Message [<!ENTITY x SYSTEM "file://{secret}">]>\n'.encode(),
        )
        .replace(b"Take 1 capsule", b"&x; Take 1 capsule")
    )
    sub = _subscriber(settings)
    try:
        with script_feed(settings) as feed:
            response = feed.post(xxe)
            sub.drain(quiet_s=1.0)
    finally:
        sub.close()
    answer = Answer.of(response.content)
    assert (response.status_code, answer.kind, answer.code) == (200, "Error", "900")
    assert answer.description and "DOCTYPE" in answer.description
    assert b"TOP-SECRET" not in response.content
    assert sub.events == []


def test_cancel_rx_is_accepted_then_answered_approved_once_cancelled(settings: Settings) -> None:
    sub = _subscriber(settings, "prescription.cancelled")
    try:
        with script_feed(settings) as feed, script_responder(feed.ph) as out:
            assert Answer.of(feed.post(messages.new_rx("NEW-C1", "ORD-C1")).content).code == "010"
            accepted = Answer.of(feed.post(messages.cancel_rx("CAN-C1", "ORD-C1")).content)
            row = feed.ph.by_placer("ORD-C1")
            sub.collect(lambda ev: len(ev) >= 1)
            sent = out.next()
            cancelled = feed.ph.wait_state(row.id, "cancelled")
            sub.drain(quiet_s=1.0)
            assert out.pending() == 0
    finally:
        sub.close()
    assert (accepted.kind, accepted.code, accepted.relates_to) == ("Status", "010", "CAN-C1")
    assert [e["subject"] for e in sub.events] == [row.id]
    assert (sent.kind, sent.to) == ("CancelRxResponse", PRESCRIBER_KEY)
    response = Answer.of(sent.body)
    assert (response.kind, response.response, response.relates_to) == ("CancelRxResponse", "Approved", "CAN-C1")
    assert (response.to, response.from_, response.message_id) == (
        messages.PRESCRIBER[1],
        messages.PHARMACY[1],
        sent.message_id,
    )
    root = etree.fromstring(sent.body)
    assert root.findtext(".//{*}RxReferenceNumber") == cancelled.rx_number
    assert root.findtext(".//{*}PrescriberOrderNumber") == "ORD-C1"
    assert root.findtext(".//{*}RequestReferenceNumber") == "REF-CAN-C1"


def test_cancel_rx_after_the_fill_was_dispensed_is_denied_at_once(paying_settings: Settings) -> None:
    sub = _subscriber(paying_settings, "prescription.cancelled")
    try:
        with script_feed(paying_settings) as feed, script_responder(feed.ph) as out:
            row = _walk_to_dispensed(feed, "NEW-D1", "ORD-D1")
            denied = feed.post(messages.cancel_rx("CAN-D1", "ORD-D1"))
            again = feed.post(messages.cancel_rx("CAN-D1", "ORD-D1"))
            sub.drain(quiet_s=1.5)
            still = feed.ph.wait_state(row.id, "dispensed")
            assert out.pending() == 0
    finally:
        sub.close()
    answer = Answer.of(denied.content)
    assert (denied.status_code, answer.kind, answer.response) == (200, "CancelRxResponse", "Denied")
    assert answer.relates_to == "CAN-D1"
    assert b"already dispensed" in denied.content
    assert again.content == denied.content
    assert sub.events == []
    assert still.document["closed_reason"] is None


def test_refill_with_none_left_asks_the_prescriber_and_the_answer_finds_the_rx(paying_settings: Settings) -> None:
    sub = _subscriber(paying_settings, "prescription.updated")
    try:
        with script_feed(paying_settings) as feed, script_responder(feed.ph) as out:
            row = _walk_to_dispensed(feed, "NEW-R1", "ORD-R1")
            refill = feed.ph.client("technician").post(f"/api/prescriptions/{row.id}/refill")
            assert refill.status_code == 409, refill.text
            request = out.next()
            # the prescriber answers naming only our request's MessageID (no RxReferenceNumber)
            assert request.message_id is not None
            answered = feed.post(messages.renewal_response("REN-R1", request.message_id))
            sub.collect(lambda ev: any(e["subject"] == row.id for e in ev))
    finally:
        sub.close()
    assert (request.kind, request.to) == ("RxRenewalRequest", PRESCRIBER_KEY)
    root = etree.fromstring(request.body)
    assert root.findtext(".//{*}Header/{*}RxReferenceNumber") == row.rx_number
    assert root.findtext(".//{*}Header/{*}RelatesToMessageID") == "NEW-R1"
    assert root.findtext(".//{*}Header/{*}From") == messages.PHARMACY[1]
    assert root.findtext(".//{*}Header/{*}To") == messages.PRESCRIBER[1]
    assert root.findtext(".//{*}Patient//{*}LastName") == "Synthetic"
    assert root.findtext(".//{*}MedicationDispensed//{*}ProductCode/{*}Code") == "00093005801"
    assert Answer.of(answered.content).code == "010"
    updated = [e for e in sub.events if e["subject"] == row.id]
    assert updated[0]["data"]["change"].startswith("renewal approved")


def test_broker_down_answers_error_601_with_503(settings: Settings) -> None:
    with script_feed(settings) as feed:
        publisher = feed.ph.hub.doors.publisher
        assert publisher is not None
        asyncio.run_coroutine_threadsafe(publisher.close(), feed.ph.hub.loop).result(10)
        response = feed.post(messages.new_rx("DOWN-1", "ORD-DOWN"))
    answer = Answer.of(response.content)
    assert (response.status_code, answer.kind, answer.code) == (503, "Error", "601")
    assert response.headers["retry-after"] == "5"
    assert answer.relates_to == "DOWN-1"


def test_http_refusals_wrong_type_too_large_no_token_wrong_role_and_acknowledgements(settings: Settings) -> None:
    status = (
        b"<Message><Header><MessageID>ST-1</MessageID></Header><Body><Status><Code>010</Code></Status></Body></Message>"
    )
    with script_feed(settings) as feed:
        wrong_type = feed.post(messages.new_rx("T-1", "ORD-T"), "application/json")
        too_large = feed.post(b"<Message>" + b" " * 1_100_000 + b"</Message>")
        url = f"http://127.0.0.1:{feed.ph.hub.http_port}/script"
        no_token = httpx.post(url, content=b"<Message/>", headers={"Content-Type": "text/xml"})
        staff = feed.ph.client("technician").post(
            "/script", content=b"<Message/>", headers={"Content-Type": "text/xml"}
        )
        acknowledgement = feed.post(status)
    assert wrong_type.status_code == 415 and Answer.of(wrong_type.content).code == "900"
    assert too_large.status_code == 413 and Answer.of(too_large.content).code == "900"
    assert (no_token.status_code, staff.status_code) == (401, 403)
    assert (acknowledgement.status_code, acknowledgement.content) == (204, b"")
