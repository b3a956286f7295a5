"""Issue 27 in a real browser: the console shows what really became of an action (never success on a 202),
refusals in words, and a verbal order read back to the prescriber before it is recorded."""

from __future__ import annotations

import json
import uuid
from datetime import date

from playwright.sync_api import Page, Route, expect

from hub.domain.order_parts import Source
from hub.domain.workflow_commands import RecordVerification
from hub.messaging.envelope import Envelope
from hub.persistence.audit import AuditTrail
from hub.persistence.users import UserStore
from hub.security.principals import user_principal
from tests.browser.console_driver import queue_item, screenshot, sign_in
from tests.support.pharmacy import Pharmacy
from tests.support.signing import publish_signed
from tests.support.staff import VERBAL, order, outcome, verbal

AMOXICILLIN = "00093005801"
OXYCODONE = "00406055201"
#: passes the DEA check digit (1+3+5 + 2*(2+4+6) = 33)
DEA = "AB1234563"


def _age(born: date) -> int:
    today = date.today()
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def _allergic_order(hub: Pharmacy):  # type: ignore[no-untyped-def]
    """Amoxicillin for a patient allergic to penicillin: waits at data verification with a HIGH alert."""
    allergic = {**VERBAL["patient"], "allergies": [{"text": "Penicillin", "severity": "SV"}]}
    coverage = {"bin": "999001", "cardholder_id": "CH100200"}
    order(hub, verbal(patient=allergic, coverage=coverage), state="data_verification")  # lisinopril, earlier
    return order(hub, verbal(patient=allergic, drug={"ndc": AMOXICILLIN}, coverage=coverage), state="data_verification")


def _refused_approval(hub: Pharmacy, prescription_id: str, correlation_id: str) -> str:
    """An approval past the API's checks (published by hand, signed as the hub does) that the worker refuses."""
    paul = next(u for u, _ in UserStore(hub.engine).list() if u.name == "paul.pharm")
    envelope = Envelope.wrap(
        RecordVerification(prescription_id=prescription_id, stage="data", approve=True),
        correlation_id=uuid.UUID(correlation_id),
        source=Source.API,
        actor=paul.id,
        principal=user_principal(paul.name, paul.role),
    )
    settings = hub.hub.settings
    return publish_signed(settings, envelope)


def test_a_refused_approval_shows_the_refusal_not_success(page: Page, hub: Pharmacy) -> None:
    row = _allergic_order(hub)
    (alert,) = [a for a in row.document["alerts"] if a["severity"] == "high"]
    sign_in(page, hub, "pharmacist")
    item = queue_item(page, "data-verification", row.rx_number)
    expect(item).to_contain_text("Order as received")
    # the profile beside the order: allergy severity in words, the patient's other prescriptions, no internal id
    expect(item.locator(".allergies")).to_have_text("Penicillin (severe)")
    expect(item.locator("table.history")).to_contain_text("Lisinopril")
    expect(item.locator("table.history")).to_contain_text("one daily")
    expect(item).not_to_contain_text(row.document["patient_id"])
    expect(item).to_contain_text(f"1980-02-03 (age {_age(date(1980, 2, 3))})")
    expect(item).to_contain_text("female")
    # both queued cards' records were read and audited once for this page view, not once per card
    page.locator("#q-data-verification > li").nth(1).wait_for()
    reads = [e for e in AuditTrail(hub.engine).query(actor="paul.pharm") if e.action.startswith("read ")]
    assert [e.action for e in reads] == ["read prescriptions for a page"], reads
    assert row.id in reads[0].detail["prescription_ids"]
    assert len(reads[0].detail["prescription_ids"]) == 2

    # 409 at once: the reason and each open alert in words, on the card; no success, no greyed-out card
    item.get_by_role("button", name="Approve").click()
    said = item.locator(".outcome.error")
    expect(said).to_contain_text(f"Not now: override or resolve alerts {alert['alert_id']} before approving")
    expect(said).to_contain_text(f"HIGH {alert['kind'].replace('_', ' ')}: {alert['text']}")
    expect(said).not_to_contain_text("{")
    expect(page.locator("#status")).not_to_contain_text("Approved")
    expect(item).not_to_have_class("item sent")
    expect(item.get_by_role("button", name="Approve")).to_be_enabled()
    screenshot(page, "pharmacist-approval-refused-409")

    # a 202 whose command the worker refused: the card says refused, with the worker's reason. The worker's
    # refusal is real (an approval published past the API's checks); the page is handed its command id as
    # the API's 202 would hand it, since the API itself would have refused that approval at once.
    refused_id = _refused_approval(hub, row.id, row.correlation_id)
    assert outcome(hub, refused_id)["status"] == "refused"

    def accepted(route: Route) -> None:
        route.fulfill(
            status=202,
            content_type="application/json",
            body=json.dumps(
                {
                    "status": "accepted",
                    "command_id": refused_id,
                    "command": "RecordVerification",
                    "prescription_id": row.id,
                }
            ),
        )

    page.route("**/data-verification", accepted)
    item.get_by_label("Override reason").fill("tolerated amoxicillin before, confirmed with patient")
    item.get_by_role("button", name="Approve").click()
    expect(item.locator(".outcome.error")).to_have_text(
        f"Refused: override or resolve alerts {alert['alert_id']} before approving"
    )
    expect(page.locator("#status")).not_to_contain_text("Approved")
    expect(item.get_by_role("button", name="Approve")).to_be_enabled()
    page.unroute("**/data-verification")

    # with the alert overridden, the real approval: success only once the worker applied it
    item.get_by_role("button", name="Approve").click()
    expect(page.locator("#status")).to_have_text(f"Approved data verification of Rx {row.rx_number}.")
    assert hub.wait_state(row.id, "filling", "product_verification").state in ("filling", "product_verification")


def test_a_verbal_order_is_read_back_before_it_is_recorded(page: Page, hub: Pharmacy) -> None:
    sign_in(page, hub, "pharmacist")
    page.get_by_role("link", name="Verbal order").click()
    form = page.locator("#verbal-form")
    for label, text in [
        ("Family name", "Synthetic"),
        ("Given name", "Vera"),
        ("Birth date", "1975-04-12"),
        ("BIN", "999001"),
        ("PCN", "RXHUB"),
        ("Group", "GRP1"),
        ("Cardholder id", "CH778899"),
    ]:
        form.get_by_label(label, exact=True).first.fill(text)
    prescriber = form.get_by_role("group", name="Prescriber")
    prescriber.get_by_label("Family name").fill("Prescriber")
    prescriber.get_by_label("NPI").fill("1234567893")
    form.get_by_label("NDC", exact=True).fill(OXYCODONE)
    form.get_by_label("Drug as ordered").fill("oxycodone 5 mg tablet")
    form.get_by_label("Quantity").fill("12")
    form.get_by_label("Days supply").fill("3")
    form.get_by_label("Directions").fill("1 tablet every 6 hours as needed for pain")
    form.get_by_role("button", name="Read back the order").click()

    readback = page.get_by_role("region", name="Read back to the prescriber")
    expect(readback).to_contain_text("Vera Synthetic, born 1975-04-12")
    expect(readback).to_contain_text("BIN 999001 · PCN RXHUB · group GRP1 · cardholder CH778899")
    # not confirmed yet: nothing is sent
    readback.get_by_role("button", name="Record verbal order").click()
    expect(readback.locator(".outcome")).to_have_count(0)

    # the catalogue knows oxycodone is Schedule II: the API's 422 is shown in words
    readback.get_by_label("The prescriber heard the order read back and confirmed it").check()
    readback.get_by_role("button", name="Record verbal order").click()
    expect(readback.locator(".outcome.error")).to_have_text(
        "Check the form: a Schedule 2 drug needs the prescriber's DEA number"
    )

    # a change after the read-back needs a new read-back
    readback.get_by_role("button", name="Change the order").click()
    expect(readback).to_be_hidden()
    form.get_by_label("Controlled substance", exact=True).select_option("2")
    form.get_by_role("button", name="Read back the order").click()
    expect(readback).to_be_hidden()  # the DEA number is now required: the browser asks for it first
    form.get_by_label("DEA number (required for a controlled substance)").fill(DEA)
    form.get_by_role("button", name="Read back the order").click()
    expect(readback).to_contain_text(f"DEA {DEA}")
    expect(readback).to_contain_text("controlled CII")
    screenshot(page, "pharmacist-verbal-read-back")
    readback.get_by_label("The prescriber heard the order read back and confirmed it").check()
    readback.get_by_role("button", name="Record verbal order").click()

    expect(page.locator("#status")).to_contain_text("Verbal order recorded as Rx ")
    rx_number = page.locator("#status").text_content().split("Rx ")[1].rstrip(".")  # type: ignore[union-attr]
    with hub.client("pharmacist") as api:
        (found,) = api.get("/api/prescriptions", params={"rx_number": rx_number}).json()
        document = api.get(f"/api/prescriptions/{found['prescription_id']}").json()["prescription"]
    assert document["source"] == "verbal" and document["verbal_licence"] == "RPH-12345"
    assert document["prescriber"]["dea"] == DEA
    assert document["coverage"]["cardholder_id"] == "CH778899" and document["coverage"]["bin"] == "999001"
    expect(form.get_by_label("Given name")).to_have_value("")  # the form is cleared only once it was recorded
