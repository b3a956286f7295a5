"""HTTP semantics of the FHIR door (issue 30, 2): content negotiation, fhirVersion, Prefer, compressed bodies,
HEAD, 405 with Allow, and versioned reads (ETag, If-None-Match)."""

from __future__ import annotations

import gzip
import json
import zlib
from typing import Any

import httpx

from tests.e2e.fhir.conftest import FHIR_JSON, FhirHub, issues
from tests.support.waiting import eventually
from tests.unit.fhir.builders import medication_request
from tests.unit.fhir.corpus import corpus_bytes


def _order(placer: str) -> dict[str, Any]:
    return medication_request(identifier=[{"system": "urn:example:ehr", "value": placer}])


def _outcome_code(answer: httpx.Response) -> str:
    assert answer.headers["content-type"].startswith(FHIR_JSON), answer.headers
    return issues(answer.json())[0][1]


def test_only_fhir_json_r4_is_served(fhir_hub: FhirHub) -> None:
    with fhir_hub.client() as fhir:
        for accept in (
            "application/fhir+xml",
            "application/xml",
            "text/html",
            "application/fhir+json; fhirVersion=3.0",
            "application/json;q=0, application/fhir+xml",
        ):
            answer = fhir.get("/metadata", headers={"Accept": accept})
            assert answer.status_code == 406 and _outcome_code(answer) == "not-supported", accept
        for fmt in ("xml", "application/fhir+xml", "text/turtle"):
            answer = fhir.get("/metadata", params={"_format": fmt})
            assert answer.status_code == 406, fmt
        for accept in (
            "application/fhir+json; fhirVersion=4.0",
            "application/json",
            "*/*",
            "application/fhir+xml;q=0.9, application/fhir+json;q=0.5",
            "text/html, */*;q=0.8",
        ):
            assert fhir.get("/metadata", headers={"Accept": accept}).status_code == 200, accept
        # _format wins over Accept
        xml = {"Accept": "application/xml"}
        assert fhir.get("/metadata", params={"_format": "json"}, headers=xml).status_code == 200
        assert fhir.get("/MedicationRequest", params={"_format": "xml"}).status_code == 406

        old = fhir.post(
            "/MedicationRequest",
            json=_order("NEG-1"),
            headers={"Content-Type": "application/fhir+json; fhirVersion=3.0"},
        )
        assert old.status_code == 415 and _outcome_code(old) == "not-supported"
        r4 = fhir.post(
            "/MedicationRequest",
            json=_order("NEG-1"),
            headers={"Content-Type": "application/fhir+json; fhirVersion=4.0"},
        )
        assert r4.status_code == 201, r4.text


def test_prefer_return_on_create(fhir_hub: FhirHub) -> None:
    with fhir_hub.client() as fhir:
        minimal = fhir.post("/MedicationRequest", json=_order("PREF-1"), headers={"Prefer": "return=minimal"})
        assert minimal.status_code == 201 and minimal.content == b"", minimal.text
        assert minimal.headers["location"].startswith(f"{fhir_hub.base}/MedicationRequest/")
        outcome = fhir.post("/MedicationRequest", json=_order("PREF-2"), headers={"Prefer": "return=OperationOutcome"})
        assert outcome.status_code == 201, outcome.text
        assert issues(outcome.json()) == [("information", "informational", None)]
        assert outcome.headers["location"].startswith(f"{fhir_hub.base}/MedicationRequest/")
        full = fhir.post("/MedicationRequest", json=_order("PREF-3"), headers={"Prefer": "return=representation"})
        assert full.status_code == 201 and full.json()["resourceType"] == "MedicationRequest", full.text
        document = fhir.post(
            "/Bundle",
            content=corpus_bytes("gematik_kbv_erp_r4_bundle_document_compounding.json"),
            headers={"Prefer": "return=minimal"},
        )
        assert document.status_code in (200, 201) and document.content == b"", document.text
        assert document.headers["preference-applied"] == "return=minimal"


def test_compressed_bodies(fhir_hub: FhirHub) -> None:
    with fhir_hub.client() as fhir:
        raw = json.dumps(_order("GZ-1")).encode()
        zipped = fhir.post("/MedicationRequest", content=gzip.compress(raw), headers={"Content-Encoding": "gzip"})
        assert zipped.status_code == 201, zipped.text
        deflated = fhir.post(
            "/MedicationRequest",
            content=zlib.compress(json.dumps(_order("GZ-2")).encode()),
            headers={"Content-Encoding": "deflate"},
        )
        assert deflated.status_code == 201, deflated.text
        brotli = fhir.post("/MedicationRequest", content=raw, headers={"Content-Encoding": "br"})
        assert brotli.status_code == 415 and _outcome_code(brotli) == "not-supported"
        corrupt = fhir.post("/MedicationRequest", content=raw, headers={"Content-Encoding": "gzip"})
        assert corrupt.status_code == 400
        # 64 MiB of spaces in 64 kB: refused once 4 MiB have come out, not inflated whole
        bomb = gzip.compress(b" " * (64 * 1024 * 1024), compresslevel=9)
        assert len(bomb) < 200_000
        exploded = fhir.post("/MedicationRequest", content=bomb, headers={"Content-Encoding": "gzip"})
        assert exploded.status_code == 413 and _outcome_code(exploded) == "too-costly"
        searched = fhir.post(
            "/MedicationRequest/_search",
            content=gzip.compress(b"identifier=GZ-1"),
            headers={"Content-Type": "application/x-www-form-urlencoded", "Content-Encoding": "gzip"},
        )
        assert searched.status_code == 200 and searched.json()["link"][0]["url"].endswith("?identifier=GZ-1")


def test_head_on_every_get_route_and_405_for_other_methods(fhir_hub: FhirHub) -> None:
    with fhir_hub.client() as fhir:
        head = fhir.head("/metadata")
        get = fhir.get("/metadata")
        assert head.status_code == 200 and head.content == b""
        assert head.headers["content-type"] == get.headers["content-type"]
        for path in ("/MedicationRequest", "/MedicationDispense", "/Patient", "/ClaimResponse"):
            assert fhir.head(path).status_code == 200, path
        assert fhir.head("/MedicationRequest/no-such-order").status_code == 404
        for method, path, allowed in (
            ("PUT", "/MedicationRequest/x", "GET, HEAD"),
            ("DELETE", "/Patient/x", "GET, HEAD"),
            ("PATCH", "/MedicationRequest", "GET, HEAD, POST"),
            ("DELETE", "/metadata", "GET, HEAD"),
        ):
            answer = fhir.request(method, path, json={})
            assert answer.status_code == 405, (method, path, answer.text)
            assert answer.headers["allow"] == allowed and _outcome_code(answer) == "not-supported"
        assert fhir.head("/Observation/1").status_code == 404
        options = fhir.options("/MedicationRequest/x")
        assert options.status_code == 405 and options.headers["allow"] == "GET, HEAD"
        unknown = fhir.put("/Observation/1", json={})
        assert unknown.status_code == 404 and _outcome_code(unknown) == "not-supported"


def test_reads_carry_a_version_and_answer_304_when_it_is_current(fhir_hub: FhirHub) -> None:
    with fhir_hub.client() as fhir:
        created = fhir.post("/MedicationRequest", json=_order("ETAG-1"))
        assert created.status_code == 201, created.text
        path = f"/MedicationRequest/{created.json()['id']}"

        def recorded() -> httpx.Response | None:
            answer = fhir.get(path)
            return answer if answer.status_code == 200 else None

        read = eventually(recorded, "order recorded")
        tag = read.headers["etag"]
        assert tag.startswith('W/"') and tag.endswith('"')
        assert tag == f'W/"{read.json()["meta"]["versionId"]}"'
        modified = read.headers["last-modified"]
        assert fhir.get(path, headers={"If-Modified-Since": modified}).status_code == 304
        assert fhir.get(path, headers={"If-Modified-Since": "Mon, 01 Jan 2001 00:00:00 GMT"}).status_code == 200
        unchanged = fhir.get(path, headers={"If-None-Match": tag})
        assert unchanged.status_code == 304 and unchanged.content == b"" and unchanged.headers["etag"] == tag
        assert fhir.get(path, headers={"If-None-Match": 'W/"other"'}).status_code == 200
        assert fhir.head(path).headers["etag"] == tag
        subject = read.json()["subject"]["reference"]
        patient = fhir.get(f"/{subject}")
        assert fhir.get(f"/{subject}", headers={"If-None-Match": patient.headers["etag"]}).status_code == 304
