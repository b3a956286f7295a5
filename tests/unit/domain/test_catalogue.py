"""The shipped catalogue: required products, corpus codes, lookups."""

from __future__ import annotations

import json

import pytest

from hub.domain.catalogue import Catalogue, CatalogueError
from hub.domain.identifiers import normalize_ndc
from tests.unit.domain.builders import CATALOGUE, DATA

REQUIRED = {
    "00093005801": "Amoxicillin",
    "00071015523": "Atorvastatin",
    "00378020801": "Lisinopril",
    "00591040501": "Hydrocodone",
    "00002821501": "Insulin lispro",
    "00074336813": "Adalimumab",
    "00054429725": "Warfarin",
    "00143978501": "Metformin",
}


@pytest.mark.parametrize(("ndc", "name"), REQUIRED.items())
def test_products_the_simulated_payer_uses_are_present(ndc: str, name: str) -> None:
    product = CATALOGUE.by_ndc(ndc)
    assert product is not None and product.name.startswith(name)


def test_hydrocodone_is_schedule_ii_and_amoxicillin_a_penicillin() -> None:
    assert CATALOGUE.by_ndc("00591040501").schedule == "2"  # type: ignore[union-attr]
    assert "penicillins" in CATALOGUE.by_ndc("00093005801").allergy_classes  # type: ignore[union-attr]


def test_every_display_ndc_normalises_to_its_ndc11() -> None:
    assert len(CATALOGUE.products) >= 20
    for product in CATALOGUE.products:
        assert normalize_ndc(product.ndc) == product.ndc11, product.name


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("308191", "Amoxicillin"),
        ("476872", "Nizatidine"),
        ("582620", "Nizatidine"),
        ("1187314", "Tylenol PM"),
    ],
)
def test_corpus_rxnorm_codes_find_a_product(code: str, expected: str) -> None:
    found = CATALOGUE.by_rxcui(code)
    assert found and all(p.name.startswith(expected) for p in found)


def test_rxnorm_to_ndc_is_one_to_many() -> None:
    assert {p.ndc11 for p in CATALOGUE.by_rxcui("308191")} == {"00093005801", "00093310501"}


@pytest.mark.parametrize(
    "ndc", ["00093310501", "00047040230", "0143-9634-01", "00777310402", "50111-327-01", "00054418425"]
)
def test_corpus_ndcs_find_a_product(ndc: str) -> None:
    assert CATALOGUE.by_ndc(ndc) is not None


def test_text_search_matches_every_word() -> None:
    assert [p.ndc11 for p in CATALOGUE.search("atorvastatin 20")] == ["00071015623"]
    assert {p.name for p in CATALOGUE.search("Amoxicillin 500")} == {"Amoxicillin"}
    assert CATALOGUE.search("doxycycline")[0].name.startswith("Doxycycline")
    assert CATALOGUE.search("   ") == []
    assert CATALOGUE.search("unobtainium") == []


def test_unknown_and_unreadable_ndc_lookups_return_none() -> None:
    assert CATALOGUE.by_ndc("99999999999") is None
    assert CATALOGUE.by_ndc("not an ndc") is None


def test_duplicate_ndc_in_the_file_is_refused() -> None:
    data = json.loads((DATA / "drug-catalogue.json").read_text())
    data["products"].append(data["products"][0])
    with pytest.raises(CatalogueError):
        Catalogue.from_dict(data)
