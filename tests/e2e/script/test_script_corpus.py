"""Every public SCRIPT sample over real HTTP against the real hub: the answer it deserves, and its events."""

from __future__ import annotations

from hub.config import Settings
from hub.messaging.topology import Topology
from tests.e2e.script.support import Answer, script_feed
from tests.support.corpus import CORPUS
from tests.support.events import EventSubscriber

#: corpus file -> (answer: "010" Status or "900" Error, a phrase the Error/Description must contain)
CORPUS_EXPECTATIONS: dict[str, tuple[str, str | None]] = {
    # names neither PrescriberOrderNumber nor RelatesToMessageID: no prescription to cancel
    "cosyte_2017071_cancelrx_request.xml": ("900", "PrescriberOrderNumber"),
    # pharmacy-side transactions are not taken on the prescriber door
    "cosyte_2017071_cancelrx_response_denied.xml": ("900", "CancelRxResponse is not accepted"),
    "cosyte_2017071_rxchange_request.xml": ("900", "RxChangeRequest is not accepted"),
    "cosyte_2017071_rxchange_response_validated.xml": ("900", "RxChangeResponse is not accepted"),
    "cosyte_2017071_rxrenewal_request.xml": ("900", "RxRenewalRequest is not accepted"),
    "cosyte_odd_unsupported_transaction.xml": ("900", "RxFill is not accepted"),
    "cosyte_2017071_newrx_basic_amoxicillin.xml": ("010", None),
    # fixtures cut down to a few elements: the required parties are missing
    "cosyte_2017071_newrx_structured_sig.xml": ("900", "Patient is missing"),
    "cosyte_odd_legacy_version_10_6_empty_newrx.xml": ("900", "MedicationPrescribed is missing"),
    "cosyte_odd_newrx_no_version_no_namespace.xml": ("900", "Prescriber is missing"),
    "cosyte_odd_newrx_version_2023011.xml": ("900", "SigText is missing"),
    # answers to a renewal request: accepted for the intake worker to resolve
    "cosyte_2017071_rxrenewal_response_approved_with_changes.xml": ("010", None),
    "cosyte_2017071_rxrenewal_response_denied.xml": ("010", None),
}


def test_every_corpus_file_has_an_expectation() -> None:
    assert sorted(p.name for p in (CORPUS / "script").glob("*.xml")) == sorted(CORPUS_EXPECTATIONS)


def test_every_corpus_file_gets_the_answer_it_deserves(settings: Settings) -> None:
    sub = EventSubscriber(
        settings.amqp_url.get_secret_value(), Topology(settings.broker_prefix).events_exchange, "prescription.received"
    )
    answers: dict[str, Answer] = {}
    try:
        with script_feed(settings) as feed:
            for name in sorted(CORPUS_EXPECTATIONS):
                raw = (CORPUS / "script" / name).read_bytes()
                response = feed.post(raw, "text/xml" if "odd" in name else "application/xml")
                assert response.status_code == 200, (name, response.text)
                assert response.headers["content-type"].startswith("text/xml" if "odd" in name else "application/xml")
                answers[name] = Answer.of(response.content)
            sub.collect(lambda ev: len(ev) >= 1)
            sub.drain(quiet_s=1.5)
    finally:
        sub.close()
    for name, (code, phrase) in CORPUS_EXPECTATIONS.items():
        answer = answers[name]
        assert (answer.kind, answer.code) == (("Status", "010") if code == "010" else ("Error", "900")), name
        assert answer.relates_to == _message_id(name), name
        if phrase is not None:
            assert answer.description is not None and phrase in answer.description, (name, answer.description)
    received = sub.of_type("prescription.received")
    assert [e["data"]["placer_order_number"] for e in received] == ["SYNTH-ORDER-0001"]
    assert received[0]["data"]["source"] == "script"


def test_answers_swap_to_and_from_of_the_request(settings: Settings) -> None:
    with script_feed(settings) as feed:
        raw = (CORPUS / "script" / "cosyte_2017071_newrx_basic_amoxicillin.xml").read_bytes()
        answer = Answer.of(feed.post(raw).content)
    assert (answer.to, answer.from_) == ("SurescriptsTestPrescriber", "SurescriptsTestPharmacy")
    assert answer.message_id and len(answer.message_id) <= 35


def _message_id(name: str) -> str:
    from lxml import etree

    root = etree.fromstring((CORPUS / "script" / name).read_bytes())
    return str(root.xpath("string(//*[local-name()='Header']/*[local-name()='MessageID'])"))
