"""An HL7 order's AL1 reactions and severity reach the data-verification record in words (issue 27, 5)."""

from __future__ import annotations

from hub.entrypoints.mllp_client import MllpClient
from tests.conftest import make_settings
from tests.support.pharmacy import pharmacy

ORDER = "\r".join(
    (
        "MSH|^~\\&|EHR|CLINIC|RXHUB|PHARM|20260101120000||RDE^O11^RDE_O11|ALG-1|P|2.5.1",
        "PID|1||MRN-ALG^^^HOSP^MR||TESTALLERGY^ROBIN||19790304|F",
        "PV1|1|O",
        "AL1|1|DA|7980^Penicillin^RXNORM|SV|Hives~Anaphylaxis",
        "AL1|2|DA|^Sulfa|MI",
        "ORC|NW|ALG-ORDER-1^EHR_ORDERS|||||||20260101|||1234567893^WELBY^MARCUS^^^^^^^^^^NPI",
        "RXE||00071015523^Lipitor 10 mg tab^NDC|1||TAB|TAB|^Take 1 tablet by mouth daily||N|30|TAB|3",
        "RXR|PO^Oral",
    )
).encode()


def test_reactions_sent_in_al1_5_are_on_the_record_in_words(amqp_url: str, sqlite_url: str) -> None:
    with pharmacy(make_settings(amqp_url, sqlite_url)) as ph:
        with MllpClient("127.0.0.1", ph.hub.mllp_port) as mllp:
            ack = mllp.send(ORDER)
        assert b"MSA|AA|ALG-1" in ack, ack
        row = ph.by_placer("ALG-ORDER-1")
        r = ph.client("pharmacist").get("/api/records", params={"ids": row.id})
        assert r.status_code == 200, r.text
        allergies = r.json()["records"][row.id]["prescription"]["allergies"]
        assert [(a["text"], a["reactions"], a["severity"]) for a in allergies] == [
            ("Penicillin", ["Hives", "Anaphylaxis"], "severe"),
            ("Sulfa", [], "mild"),
        ]
