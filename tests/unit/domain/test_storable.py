"""The one rule for text the hub can keep: where the first NUL or unpaired surrogate is, in anything."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from hub.domain.commands import ReceivePrescription
from hub.domain.order_parts import DrugInfo, PatientInfo, PrescriberInfo
from hub.domain.storable import first_unstorable, made_storable, unstorable_in


def _order(**patient: str) -> ReceivePrescription:
    return ReceivePrescription(
        placer_order_number="ORD-1",
        patient=PatientInfo(**patient),
        prescriber=PrescriberInfo(npi="1234567893"),
        drug=DrugInfo(ndc="00093005801"),
    )


def test_a_command_is_clean_or_names_the_field_that_is_not() -> None:
    assert first_unstorable(_order(family_name="Doe")) is None
    found = first_unstorable(_order(family_name="Doe", given_name="Ja\x00ne"))
    assert found is not None and found.path == ("patient", "given_name") and found.code_point == "U+0000"
    assert found.dotted("payload") == "payload.patient.given_name"
    assert found.describe("PID-5.2") == "PID-5.2 holds a NUL (U+0000), a character the pharmacy cannot store"
    # the same as JSON data, the form a worker reads
    assert first_unstorable(_order(given_name="Ja\x00ne").model_dump(mode="json")) == found


def test_json_data_reports_keys_indexes_and_surrogates() -> None:
    found = first_unstorable({"entry": [{"resource": {"name": [{"family": "ok"}, {"family": "D\ud800e"}]}}]})
    assert found is not None and found.character == "\ud800"
    assert found.dotted("Bundle") == "Bundle.entry[0].resource.name[1].family"
    assert "an unpaired surrogate (U+D800)" in found.describe("x")
    key = first_unstorable({"a\x00": 1})
    assert key is not None and key.path == ("a\x00",) and key.dotted() == "a\ufffd"


def test_an_escaped_backslash_before_u0000_is_plain_text() -> None:
    # the JSON screen sees \\u0000; the walk finds a backslash and "u0000", which can be stored
    assert first_unstorable({"note": "\\u0000", "set": {"x"}, "n": 1.5}) is None
    assert first_unstorable(["fine", ("also", {"x\x00"})]) is not None


@given(st.text())
def test_made_storable_leaves_nothing_unstorable_and_changes_nothing_else(text: str) -> None:
    cleaned = made_storable(text)
    assert unstorable_in(cleaned) is None and len(cleaned) == len(text)
    assert (cleaned == text) == (unstorable_in(text) is None)
