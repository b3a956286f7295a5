"""Search value matching, search parsing, negotiation, Prefer, compressed bodies and versions (issue 30)."""

from __future__ import annotations

import gzip
import zlib

import pytest
from fastapi import HTTPException

from adapters.fhir.content_coding import decoded
from adapters.fhir.negotiation import not_acceptable, unsupported_content
from adapters.fhir.preferences import preferences, strict
from adapters.fhir.search import Candidate, parse_search, searchset
from adapters.fhir.search_values import date_matches, span_of, string_matches, token_matches
from adapters.fhir.versions import etag, last_modified, not_modified
from hub.errors import MessageContentError

DAY = [span_of("2026-11-20")]


@pytest.mark.parametrize(
    ("value", "hit"),
    [
        ("2026-11-20", True),
        ("eq2026-11", True),
        ("2026", True),
        ("eq2026-11-21", False),
        ("ne2026-11-20", False),
        ("gt2026-11-19", True),
        ("gt2026-11-20", False),
        ("ge2026-11-20", True),
        ("ge2026-11-21", False),
        ("lt2026-11-21", True),
        ("lt2026-11-20", False),
        ("le2026-11-20", True),
        ("le2026-11-19", False),
        ("sa2026-11-19", True),
        ("sa2026-11-20", False),
        ("eb2026-11-21", True),
        ("eb2026-11-20", False),
        ("ge2026-11-20T23:00:00Z", True),
        ("gt2026-12", False),
        ("lt2026-11-20T12:00:00+05:00", True),
    ],
)
def test_date_prefixes_compare_ranges(value: str, hit: bool) -> None:
    assert date_matches(value, DAY) is hit


def test_month_and_year_spans() -> None:
    december = span_of("2026-12")
    assert (december.start.month, december.end.year, december.end.month) == (12, 2027, 1)
    with pytest.raises(ValueError):
        span_of("yesterday")


def test_tokens_and_strings() -> None:
    codes = [("urn:a", "1"), (None, "2")]
    assert token_matches("1", codes) and token_matches("urn:a|1", codes) and token_matches("urn:a|", codes)
    assert token_matches("|2", codes) and not token_matches("|1", codes) and not token_matches("urn:b|1", codes)
    assert string_matches("smi", ["Smith"], "") and not string_matches("smi", ["Smith"], "exact")
    assert string_matches("mit", ["Smith"], "contains") and not string_matches("mit", ["Smith"], "")


def test_search_parsing_ignores_or_refuses_unknown_parameters() -> None:
    items = [("identifier", "a|b"), ("authoredOn", "ge2026"), ("_count", "500"), ("foo", "x"), ("status:not", "x")]
    search = parse_search("MedicationRequest", items, strict=False)
    assert [c.key for c in search.criteria] == ["identifier", "authoredon"] and search.count == 200
    assert search.query(0) == "identifier=a%7Cb&authoredon=ge2026&_count=200"
    with pytest.raises(MessageContentError) as refused:
        parse_search("MedicationRequest", items, strict=True)
    assert refused.value.problems[0].location == "foo"
    assert parse_search("Patient", [("_format", "json")], strict=True).criteria == ()
    assert parse_search("Patient", [("identifier", "")], strict=True).criteria == ()
    for bad in ([("_count", "-1")], [("birthdate", "soon")]):
        with pytest.raises(MessageContentError):
            parse_search("Patient", bad, strict=False)


def test_comma_is_or_and_repeats_are_and() -> None:
    one = Candidate({"resourceType": "Patient", "id": "p", "gender": "female", "birthDate": "1980-01-02"})
    assert parse_search("Patient", [("gender", "male,female")], strict=True).matches(one)
    both = parse_search("Patient", [("birthdate", "ge1980"), ("birthdate", "lt1980-01-02")], strict=True)
    assert not both.matches(one)


def test_searchset_pages() -> None:
    search = parse_search("Patient", [("_count", "2"), ("_offset", "2")], strict=True)
    found = [{"resourceType": "Patient", "id": str(n)} for n in range(5)]
    bundle = searchset("http://hub/fhir/", search, found[2:4], len(found))
    links = {link["relation"]: link["url"] for link in bundle["link"]}
    assert bundle["total"] == 5 and [e["resource"]["id"] for e in bundle["entry"]] == ["2", "3"]
    assert links["next"].endswith("?_count=2&_offset=4") and links["previous"].endswith("?_count=2")


def test_negotiation() -> None:
    assert not_acceptable([], None) is None
    assert not_acceptable(["application/fhir+json; fhirVersion=4.0"], None) is None
    assert not_acceptable(["application/fhir+json; fhirVersion=3.0"], None) is not None
    assert not_acceptable(["application/fhir+xml"], None) is not None
    assert not_acceptable(["application/fhir+xml"], "json") is None
    assert not_acceptable([], "xml") is not None
    assert unsupported_content("application/fhir+json; charset=utf-8; fhirVersion=4.0") is None
    assert unsupported_content("application/fhir+json; fhirVersion=5.0") is not None


def test_prefer_header() -> None:
    found = preferences(["return=minimal; handling=strict", "respond-async"])
    assert found == {"return": "minimal", "handling": "strict", "respond-async": ""} and strict(found)


def test_compressed_bodies_are_capped_once_inflated() -> None:
    body = b'{"resourceType":"Patient"}'
    assert decoded(gzip.compress(body), "gzip", 100) == body
    assert decoded(zlib.compress(body), "deflate", 100) == body
    raw = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    assert decoded(raw.compress(body) + raw.flush(), "deflate", 100) == body
    assert decoded(gzip.compress(zlib.compress(body)), "deflate, gzip", 100) == body
    for content, coding, status in (
        (gzip.compress(b" " * 1000), "gzip", 413),
        (body, "gzip", 400),
        (gzip.compress(body)[:-8], "gzip", 400),
        (body, "br", 415),
    ):
        with pytest.raises(HTTPException) as refused:
            decoded(content, coding, 100)
        assert refused.value.status_code == status, coding


def test_versions() -> None:
    versioned = {
        "resourceType": "Patient",
        "id": "p",
        "meta": {"versionId": "3", "lastUpdated": "2026-12-01T10:00:00Z"},
    }
    assert etag(versioned) == 'W/"3"' and last_modified(versioned) == "Tue, 01 Dec 2026 10:00:00 GMT"
    assert (
        not_modified('W/"3"', versioned)
        and not_modified('"3", W/"2"', versioned)
        and not not_modified('W/"2"', versioned)
    )
    assert not_modified(None, versioned, "Tue, 01 Dec 2026 10:00:00 GMT")
    assert not not_modified(None, versioned, "Tue, 01 Dec 2026 09:59:59 GMT") and not not_modified(None, versioned, "x")
    assert not not_modified('W/"2"', versioned, "Tue, 01 Dec 2026 10:00:00 GMT")  # If-None-Match decides
    plain = {"resourceType": "Patient", "id": "p"}
    assert etag(plain) != etag(plain | {"gender": "male"}) and last_modified(plain) is None
