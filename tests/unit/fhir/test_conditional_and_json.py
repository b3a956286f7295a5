"""If-None-Exist parsing, and FHIR JSON out that keeps every decimal exactly as it came in."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.fhir.conditional import IdentifierToken, if_none_exist
from adapters.fhir.json_body import fhir_json, media_type
from adapters.fhir.orders import Order, placer_key
from adapters.fhir.parsing import parse_resource
from hub.domain.commands import CancelPrescription
from hub.errors import MessageContentError, UnsupportedMessageError


@pytest.mark.parametrize(
    ("header", "token"),
    [
        ("identifier=urn:example:ehr|ORD-1", IdentifierToken(system="urn:example:ehr", value="ORD-1")),
        ("identifier=urn%3Aexample%3Aehr%7CORD-1", IdentifierToken(system="urn:example:ehr", value="ORD-1")),
        ("MedicationRequest?identifier=ORD-1", IdentifierToken(value="ORD-1")),
        ("identifier=|ORD-1", IdentifierToken(value="ORD-1")),
    ],
)
def test_if_none_exist_reads_an_identifier_token(header: str, token: IdentifierToken) -> None:
    assert if_none_exist(header) == token


@pytest.mark.parametrize(
    ("header", "error"),
    [
        ("identifier=", MessageContentError),
        ("identifier=urn:x|", MessageContentError),
        ("status=active", UnsupportedMessageError),
        ("identifier=a&identifier=b", UnsupportedMessageError),
        ("", UnsupportedMessageError),
    ],
)
def test_if_none_exist_refuses_what_it_cannot_search(header: str, error: type[Exception]) -> None:
    with pytest.raises(error):
        if_none_exist(header)


def test_a_cancellation_has_its_own_key_but_the_order_s_id() -> None:
    cancel = Order.of(CancelPrescription(placer_order_number="ORD-1", placer_system="urn:x"), owner="feed:a")
    assert cancel.key == "cancel|" + placer_key("urn:x", "ORD-1")
    assert cancel.resource_id == str(cancel.correlation_id)
    assert cancel.envelope("feed").message_id == cancel.envelope("feed").message_id  # derived: a resend is dropped
    assert cancel.envelope("feed").principal == "feed:a"
    # the same identifier from another feed names another order
    other = Order.of(CancelPrescription(placer_order_number="ORD-1", placer_system="urn:x"), owner="feed:b")
    assert other.correlation_id != cancel.correlation_id


def test_decimals_keep_their_precision() -> None:
    body = b'{"a": 1.50, "b": [0.1, 1e-7, -0.0, 30], "c": "\xc3\xa9"}'
    parsed = parse_resource(body)
    assert parsed["a"] == Decimal("1.50")
    assert fhir_json(parsed) == '{"a":1.50,"b":[0.1,1E-7,-0.0,30],"c":"é"}'.encode()


#: text the hub can store (hub.domain.storable): no NUL, no lone surrogate (Unicode category Cs)
storable_text = st.text(alphabet=st.characters(blacklist_characters="\x00", blacklist_categories=("Cs",)), max_size=10)
#: what an R4 string may hold: no control character but tab, CR and LF
fhir_text = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")) | st.sampled_from("\t\r\n"), max_size=10)


def _json_values(text: st.SearchStrategy[str]) -> st.SearchStrategy[object]:
    return st.recursive(
        st.none()
        | st.booleans()
        | st.integers(-(10**30), 10**30)
        | st.decimals(allow_nan=False, allow_infinity=False, places=6)
        | text,
        lambda children: st.lists(children, max_size=3) | st.dictionaries(text, children, max_size=3),
        max_leaves=15,
    )


json_values = _json_values(storable_text)


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(fhir_text, _json_values(fhir_text), max_size=4))
def test_fhir_json_round_trips_through_the_parser(value: dict[str, object]) -> None:
    encoded = fhir_json(value)
    json.loads(encoded)  # valid JSON for any reader
    assert parse_resource(encoded) == value


@settings(max_examples=100, deadline=None)
@given(fhir_text, st.sampled_from(["\x01", "\x1b", "\x1f", "\x0b"]))
def test_a_control_character_is_refused_at_its_fhirpath(text: str, bad: str) -> None:
    resource = {"resourceType": "MedicationRequest", "identifier": [{"system": "urn:x", "value": text + bad}]}
    with pytest.raises(MessageContentError) as refused:
        parse_resource(fhir_json(resource))
    assert [(p.code, p.location) for p in refused.value.problems] == [
        ("value", "MedicationRequest.identifier[0].value")
    ]


@settings(max_examples=100, deadline=None)
@given(
    st.dictionaries(storable_text, json_values, max_size=3),
    storable_text,
    storable_text,
    st.sampled_from(["\x00", "\ud800", "\udfff"]),
)
def test_text_the_hub_cannot_store_is_refused_at_its_fhirpath(
    value: dict[str, object], key: str, text: str, bad: str
) -> None:
    resource = {"resourceType": "MedicationRequest", **value, "note": [{"text": text + bad + text}]}
    encoded = json.dumps(resource, default=str).encode()  # stdlib JSON escapes a lone surrogate as \udxxx
    with pytest.raises(MessageContentError) as refused:
        parse_resource(encoded)
    (problem,) = refused.value.problems
    assert problem.code == "value" and f"U+{ord(bad):04X}" in problem.text
    # the first unstorable string in document order: ours unless a generated key came first and holds none
    assert problem.location == "MedicationRequest.note[0].text"


def test_media_type_drops_parameters() -> None:
    assert media_type("Application/FHIR+JSON; charset=utf-8") == "application/fhir+json"
    assert media_type(None) is None and media_type(" ") is None
