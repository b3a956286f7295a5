"""Properties: the SCRIPT reader only ever raises our errors; builders escape and round-trip any text."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from adapters.ncpdp.script import (
    PharmacyIdentity,
    RenewalRequestInput,
    ScriptHeader,
    ScriptMessage,
    XmlNode,
    cancel_rx_response,
    error_response,
    read_message,
    rx_renewal_request,
    status_response,
    to_command,
)
from adapters.ncpdp.script.safe_xml import XML_WHITESPACE
from adapters.ncpdp.script.xml_writer import xml_text
from hub.domain.order_parts import DrugInfo, PatientInfo, PrescriberInfo, QuantityInfo
from hub.errors import InboundMessageError
from tests.unit.ncpdp_script.samples import CORPUS, NEWRX_10_6, NEWRX_2017071_FULL

SEEDS = [p.read_bytes() for p in sorted(CORPUS.glob("*.xml"))] + [NEWRX_2017071_FULL, NEWRX_10_6]
NAMES = [
    "Message", "Header", "Body", "MessageID", "RelatesToMessageID", "NewRx", "CancelRx", "RxRenewalResponse",
    "RefillResponse", "Patient", "HumanPatient", "Prescriber", "MedicationPrescribed", "Quantity", "Value",
    "Date", "DateTime", "Response", "Approved", "Denied", "NumberOfRefills", "Refills", "DEASchedule", "Code",
    "Sig", "SigText", "DrugCoded", "ProductCode", "DrugDBCode", "Substitutions", "BenefitsCoordination",
]  # fmt: skip
NOW = datetime(2026, 1, 1, tzinfo=UTC)

#: any text lxml will put in a document (it refuses what XML cannot carry, as our writer does)
texts = st.text(max_size=40).map(xml_text)
message_ids = st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1, max_size=35)


def read_back(value: str) -> str | None:
    """What a reader sees after a value went through XML: invalid chars replaced, whitespace trimmed."""
    return xml_text(value).strip(XML_WHITESPACE) or None


def outcome(body: bytes) -> ScriptMessage | None:
    """Read and map ``body``; only InboundMessageError subclasses may escape as failures."""
    try:
        msg = read_message(body)
    except InboundMessageError:
        return None
    try:
        to_command(msg)
    except InboundMessageError:
        pass
    return msg


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    """A seed document with a few elements removed, duplicated, renamed or given new text."""
    root = etree.fromstring(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(1, 4))):
        target = draw(st.sampled_from(list(root.iter())))
        action = draw(st.sampled_from(["remove", "text", "duplicate", "rename", "attribute"]))
        parent = target.getparent()
        if action == "remove" and parent is not None:
            parent.remove(target)
        elif action == "duplicate" and parent is not None:
            target.addnext(copy.deepcopy(target))
        elif action == "rename":
            target.tag = etree.QName(etree.QName(target).namespace, draw(st.sampled_from(NAMES))).text
        elif action == "attribute":
            target.set(draw(st.sampled_from(["Qualifier", "version", "TransactionVersion"])), draw(texts))
        else:
            target.text = draw(texts)
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))


@given(st.binary(max_size=2000))
def test_arbitrary_bytes_raise_only_our_errors(body: bytes) -> None:
    outcome(body)


@given(st.sampled_from(SEEDS), st.integers(0, 3000), st.binary(max_size=20))
def test_spliced_corpus_bytes_raise_only_our_errors(seed: bytes, at: int, junk: bytes) -> None:
    outcome(seed[:at] + junk + seed[at + len(junk) :])


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_mutated_corpus_raises_only_our_errors_and_can_always_be_answered(body: bytes) -> None:
    msg = outcome(body)
    if msg is None:
        return
    for answer in (
        status_response(msg.header, message_id="HUB-1", now=NOW),
        error_response(msg.header, "900", None, "rejected", message_id="HUB-2", now=NOW),
    ):
        back = read_message(answer)
        assert back.header.relates_to_message_id == msg.header.message_id
        assert (back.header.to, back.header.from_) == (msg.header.from_, msg.header.to)


@given(message_ids, texts, texts, texts)
def test_answers_round_trip_any_text(request_id: str, sender: str, description: str, reason: str) -> None:
    header = ScriptHeader(message_id=request_id, from_=sender, from_qualifier="D", to="7654321")
    error = read_message(error_response(header, "900", None, description, message_id="E", now=NOW))
    assert error.body.text_at("Description") == read_back(description)
    assert (error.header.relates_to_message_id, error.header.to) == (request_id, read_back(sender))
    cancel = ScriptMessage(header=header, kind="CancelRx", body=XmlNode(name="CancelRx"))
    denied = read_message(cancel_rx_response(cancel, False, reason, reason_code="AA", message_id="C", now=NOW))
    assert denied.body.text_at("Response", "Denied", "DenialReason") == read_back(reason)
    assert denied.header.relates_to_message_id == request_id


@given(texts, texts, texts, texts, texts, message_ids)
def test_renewal_request_round_trips_any_text(
    family: str, drug: str, sig: str, pharmacy: str, prescriber: str, rx_number: str
) -> None:
    request = RenewalRequestInput(
        rx_number=rx_number,
        prescriber_address="SPI-1",
        prescriber=PrescriberInfo(family_name=prescriber, npi="1234567893"),
        patient=PatientInfo(family_name=family),
        drug=DrugInfo(text=drug, ndc="00000111122"),
        quantity=QuantityInfo(value=Decimal("1.5"), unit="tablet"),
        sig=sig,
        pharmacy=PharmacyIdentity(ncpdp_id="7654321", name=pharmacy),
    )
    msg = read_message(rx_renewal_request(request, message_id="R", now=NOW))
    body = msg.body
    assert msg.header.rx_reference_number == rx_number
    assert body.text_at("Patient", "HumanPatient", "Name", "LastName") == read_back(family)
    assert body.text_at("Prescriber", "NonVeterinarian", "Name", "LastName") == read_back(prescriber)
    assert body.text_at("Pharmacy", "BusinessName") == read_back(pharmacy)
    assert body.text_at("MedicationDispensed", "DrugDescription") == read_back(drug)
    assert body.text_at("MedicationDispensed", "Sig", "SigText") == read_back(sig)
