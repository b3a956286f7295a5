"""Payer sheets: the shipped example validates, plans are matched by BIN/PCN, and missing fields are named."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from pydantic import ValidationError

from hub.config import DATA_DIR
from hub.domain.catalogue import Catalogue
from hub.domain.payer_sheet import PayerSheet, PayerSheets, missing_fields
from hub.entrypoints import preflight
from hub.errors import ConfigurationError
from tests.conftest import make_settings
from tests.unit.ncpdp_payer_link.claim_data import AMOXICILLIN, HYDROCODONE, claim


def test_shipped_sheets_validate_and_match_by_bin_then_pcn() -> None:
    sheets = PayerSheets.from_json_text((DATA_DIR / "payer-sheets.json").read_text())
    assert sheets.for_plan("999001", "ANY") is not None
    assert sheets.for_plan("610014", None) is None
    both = PayerSheets(
        sheets=(PayerSheet(bin="610014", name="catch-all"), PayerSheet(bin="610014", pcn="PCS", name="exact"))
    )
    assert both.for_plan("610014", "PCS").name == "exact"  # type: ignore[union-attr]
    assert both.for_plan("610014", "OTHER").name == "catch-all"  # type: ignore[union-attr]


def test_unknown_required_field_or_other_coverage_code_is_refused() -> None:
    with pytest.raises(ValidationError, match="unknown claim fields"):
        PayerSheet(bin="610014", required=("shoe_size",))
    with pytest.raises(ValidationError, match="other_coverage_code"):
        PayerSheet(bin="610014", other_coverage_code="9")


def test_missing_fields_are_named_for_the_technician() -> None:
    sheet = PayerSheet(bin="999001", required=("origin_code", "ingredient_cost", "cardholder_id"))
    assert missing_fields(claim(origin_code="3", ingredient_cost=Decimal("1")), sheet) == []
    assert missing_fields(claim(), sheet) == ["419-DJ Prescription Origin Code", "409-D9 Ingredient Cost Submitted"]


def test_schedule_ii_needs_quantity_prescribed_even_without_a_sheet() -> None:
    assert missing_fields(claim(ndc=HYDROCODONE, schedule="2"), None) == ["460-ET Quantity Prescribed"]
    assert missing_fields(claim(ndc=HYDROCODONE, schedule="2", quantity_prescribed=Decimal("20")), None) == []
    assert missing_fields(claim(ndc=HYDROCODONE, schedule="4"), None) == []


def test_unit_cost_follows_the_plans_cost_basis() -> None:
    catalogue = Catalogue.from_json_text((DATA_DIR / "drug-catalogue.json").read_text())
    product = catalogue.by_ndc(AMOXICILLIN)
    assert product is not None and product.awp_unit_price is not None
    assert PayerSheet(bin="1", cost_basis="awp").unit_cost(product) == product.awp_unit_price
    assert PayerSheet(bin="1", cost_basis="acquisition").unit_cost(product) == product.acquisition_unit_cost
    assert PayerSheet(bin="1").unit_cost(product) == product.unit_price


def test_preflight_refuses_a_payer_sheet_with_an_unknown_field(tmp_path: Path) -> None:
    path = tmp_path / "sheets.json"
    path.write_text('{"sheets": [{"bin": "610014", "required": ["shoe_size"]}]}')
    settings = make_settings("amqp://guest:guest@127.0.0.1:5672/%2F", "sqlite://", payer_sheets_path=path)
    with pytest.raises(ConfigurationError, match="RXHUB_PAYER_SHEETS_PATH"):
        preflight.check(settings, doors=False, workers=True)
