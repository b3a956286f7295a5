"""An HL7 order's AL1 reactions and severity reach the data-verification record in words (issue 27, 5), and a
later order's report of the same allergy adds to the patient's profile instead of listing it twice."""

from __future__ import annotations

from typing import Any

from hub.entrypoints.mllp_client import MllpClient
from tests.conftest import make_settings
from tests.support.pharmacy import Pharmacy, pharmacy


def order(control_id: str, placer: str, *al1: str) -> bytes:
    return "\r".join(
        (
            f"MSH|^~\\&|EHR|CLINIC|RXHUB|PHARM|20260101120000||RDE^O11^RDE_O11|{control_id}|P|2.5.1",
            "PID|1||MRN-ALG^^^HOSP^MR||TESTALLERGY^ROBIN||19790304|F",
            "PV1|1|O",
            *al1,
            f"ORC|NW|{placer}^EHR_ORDERS|||||||20260101|||1234567893^WELBY^MARCUS^^^^^^^^^^NPI",
            "RXE||00071015523^Lipitor 10 mg tab^NDC|1||TAB|TAB|^Take 1 tablet by mouth daily||N|30|TAB|3",
            "RXR|PO^Oral",
        )
    ).encode()


def words(allergies: list[dict[str, Any]]) -> list[tuple[str, list[str], str | None]]:
    return [(a["text"], a["reactions"], a["severity"]) for a in allergies]


def record(ph: Pharmacy, prescription_id: str) -> dict[str, Any]:
    r = ph.client("pharmacist").get("/api/records", params={"ids": prescription_id})
    assert r.status_code == 200, r.text
    return dict(r.json()["records"][prescription_id])


def test_reactions_sent_in_al1_5_are_on_the_record_in_words(amqp_url: str, sqlite_url: str) -> None:
    with pharmacy(make_settings(amqp_url, sqlite_url)) as ph:
        with MllpClient("127.0.0.1", ph.hub.mllp_port) as mllp:
            first = mllp.send(
                order(
                    "ALG-1", "ALG-ORDER-1", "AL1|1|DA|7980^Penicillin^RXNORM|SV|Hives~Anaphylaxis", "AL1|2|DA|^Sulfa|MI"
                )
            )
            assert b"MSA|AA|ALG-1" in first, first
            row = ph.by_placer("ALG-ORDER-1")
            before = record(ph, row.id)
            second = mllp.send(order("ALG-2", "ALG-ORDER-2", "AL1|1|DA|7980^Penicillin G^RXNORM|SV|Wheezing"))
            assert b"MSA|AA|ALG-2" in second, second
            ph.by_placer("ALG-ORDER-2")
            after = record(ph, row.id)
    assert words(before["prescription"]["allergies"]) == [
        ("Penicillin", ["Hives", "Anaphylaxis"], "severe"),
        ("Sulfa", [], "mild"),
    ]
    assert words(before["patient"]["allergies"]) == words(before["prescription"]["allergies"])
    # the prescription keeps what it was screened against; the profile has every reaction reported since
    assert words(after["prescription"]["allergies"]) == words(before["prescription"]["allergies"])
    assert words(after["patient"]["allergies"]) == [
        ("Penicillin", ["Hives", "Anaphylaxis", "Wheezing"], "severe"),
        ("Sulfa", [], "mild"),
    ]
