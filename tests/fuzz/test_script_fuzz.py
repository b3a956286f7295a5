"""SCRIPT XML abuse at POST /script: malformed XML, XXE and entity expansion (refused, never resolved),
damaged NewRx elements.  Every answer is a SCRIPT message (Error/Status), never a 5xx."""

from __future__ import annotations

import itertools
import socket
import threading
from datetime import date

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.fuzz.conftest import TRIED, FuzzHub

FUZZ = settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
XML = {"Content-Type": "application/xml"}
_ids = itertools.count()
_ROOT = (
    '<Message xmlns="http://www.ncpdp.org/schema/SCRIPT" DatatypesVersion="20170715" '
    'TransportVersion="20170715" TransactionDomain="SCRIPT" TransactionVersion="20170715" '
    'StructuresVersion="20170715" ECLVersion="20170715">'
)
#: the parts of a NewRx the fuzzer damages, in order: (tag, good value)
PARTS = [
    ("From", "9988776655001"),
    ("MessageID", "MID"),
    ("SentTime", "2026-01-15T09:30:00Z"),
    ("PrescriberOrderNumber", "ORDER"),
    ("LastName", "Synthetic"),
    ("Date", "1981-05-06"),
    ("NPI", "1234567893"),
    ("Code", "00093005801"),
    ("Value", "20"),
    ("DaysSupply", "10"),
    ("NumberOfRefills", "0"),
    ("SigText", "Take 1 capsule twice daily"),
]


def new_rx(values: dict[str, str]) -> bytes:
    """A 2017071 NewRx with every damageable element filled from ``values``."""
    v = {tag: values.get(tag, good) for tag, good in PARTS}
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>{_ROOT}<Header><To Qualifier="P">7654321</To>'
        f'<From Qualifier="D">{v["From"]}</From><MessageID>{v["MessageID"]}</MessageID>'
        f"<SentTime>{v['SentTime']}</SentTime><PrescriberOrderNumber>{v['PrescriberOrderNumber']}"
        f"</PrescriberOrderNumber></Header><Body><NewRx><Patient><HumanPatient><Name><LastName>{v['LastName']}"
        f"</LastName><FirstName>Robin</FirstName></Name><Gender>F</Gender><DateOfBirth><Date>{v['Date']}</Date>"
        f"</DateOfBirth></HumanPatient></Patient><Prescriber><NonVeterinarian><Identification><NPI>{v['NPI']}"
        f"</NPI></Identification><Name><LastName>Smith</LastName><FirstName>Pat</FirstName></Name>"
        f"</NonVeterinarian></Prescriber><MedicationPrescribed><DrugDescription>Amoxicillin 500 MG Oral Capsule"
        f"</DrugDescription><DrugCoded><ProductCode><Code>{v['Code']}</Code><Qualifier>ND</Qualifier>"
        f"</ProductCode></DrugCoded><Quantity><Value>{v['Value']}</Value><CodeListQualifier>38</CodeListQualifier>"
        f"<QuantityUnitOfMeasure><Code>C48480</Code></QuantityUnitOfMeasure></Quantity><DaysSupply>"
        f"{v['DaysSupply']}</DaysSupply><WrittenDate><Date>{date.today().isoformat()}</Date></WrittenDate>"
        f"<Substitutions>0</Substitutions><NumberOfRefills>{v['NumberOfRefills']}</NumberOfRefills><Sig><SigText>"
        f"{v['SigText']}</SigText></Sig></MedicationPrescribed></NewRx></Body></Message>"
    ).encode()


def _check(response: httpx.Response, what: str) -> None:
    TRIED["script xml"] += 1
    assert response.status_code < 500 or response.status_code == 503, f"{what}: {response.status_code}"
    assert b"<Message" in response.content and (
        b"<Error>" in response.content or b"<Status>" in response.content or b"<CancelRxResponse" in response.content
    ), f"{what}: not a SCRIPT answer: {response.text[:300]}"
    assert b"root:x:0" not in response.content, f"{what}: a local file leaked into the answer"


def _post(http: httpx.Client, body: bytes) -> httpx.Response:
    return http.post("/script", content=body, headers=XML)


def test_damaged_elements(fuzz_hub: FuzzHub) -> None:
    text = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=40)
    with fuzz_hub.client() as http:

        @FUZZ
        @given(
            damage=st.dictionaries(st.sampled_from([t for t, _ in PARTS]), text, min_size=1, max_size=4),
            escape=st.booleans(),
        )
        def post(damage: dict[str, str], escape: bool) -> None:
            if escape:
                damage = {k: v.replace("&", "&amp;").replace("<", "&lt;") for k, v in damage.items()}
            values = {"MessageID": f"FZS{next(_ids)}", "PrescriberOrderNumber": f"FZS-O{next(_ids)}", **damage}
            _check(_post(http, new_rx(values)), repr(damage))

        post()
    fuzz_hub.assert_serving()


def test_malformed_xml_and_junk(fuzz_hub: FuzzHub) -> None:
    good = new_rx({})
    with fuzz_hub.client() as http:

        @FUZZ
        @given(cut=st.integers(0, len(good)), junk=st.binary(max_size=200), where=st.integers(0, len(good)))
        def post(cut: int, junk: bytes, where: int) -> None:
            body = (good[:where] + junk + good[where:])[:cut] if junk else good[:cut]
            _check(_post(http, body), repr(body[:120]))

        post()
    fuzz_hub.assert_serving()


def test_external_entities_and_expansion_are_refused(fuzz_hub: FuzzHub) -> None:
    with socket.socket() as trap:  # an "attacker" server: the hub must never connect to it
        trap.bind(("127.0.0.1", 0))
        trap.listen(5)
        trap.settimeout(0.2)
        port = trap.getsockname()[1]
        hits: list[bytes] = []
        done = threading.Event()

        def watch() -> None:
            while not done.is_set():
                try:
                    conn, _ = trap.accept()
                    hits.append(conn.recv(200))
                    conn.close()
                except OSError:
                    continue

        thread = threading.Thread(target=watch, daemon=True)
        thread.start()
        laughs = '<!ENTITY l0 "lol">' + "".join(f'<!ENTITY l{i} "{f"&l{i - 1};" * 10}">' for i in range(1, 10))
        attacks = {
            "local file": '<!DOCTYPE m [<!ENTITY x SYSTEM "file:///etc/passwd">]>',
            "network": f'<!DOCTYPE m [<!ENTITY x SYSTEM "http://127.0.0.1:{port}/xxe">]>',
            "parameter entity": f'<!DOCTYPE m [<!ENTITY % p SYSTEM "http://127.0.0.1:{port}/dtd"> %p;]>',
            "external DTD": f'<!DOCTYPE Message SYSTEM "http://127.0.0.1:{port}/script.dtd">',
            "billion laughs": f"<!DOCTYPE m [{laughs}]>",
        }
        with fuzz_hub.client() as http:
            for what, doctype in attacks.items():
                ref = "&l9;" if what == "billion laughs" else "&x;"
                body = new_rx({"MessageID": f"FZX{next(_ids)}", "LastName": ref}).replace(
                    b"?>", b"?>" + doctype.encode(), 1
                )
                for encoded in (body, body.decode().replace('encoding="UTF-8"', 'encoding="UTF-16"').encode("utf-16")):
                    response = _post(http, encoded)
                    _check(response, what)
                    assert b"lollollol" not in response.content
                    assert response.status_code in (200, 400, 413, 415, 422), what
        done.set()
        thread.join(2)
    assert hits == [], f"the hub fetched an external entity: {hits}"
    fuzz_hub.assert_serving()
