"""Synthetic claim requests for tests (made-up people and ids; NPIs pass the Luhn check)."""

from datetime import date
from decimal import Decimal

from adapters.ncpdp.d0 import ClaimRequest, ClaimTransaction
from adapters.ncpdp.d0.request_segments import (
    ClaimSegment,
    DurPps,
    DurPpsSegment,
    InsuranceSegment,
    PatientSegment,
    PrescriberSegment,
    PricingSegment,
)

AMOXICILLIN = "00093005801"
ATORVASTATIN = "00071015523"
HYDROCODONE = "00591040501"
INSULIN = "00002821501"
ADALIMUMAB = "00074336813"
WARFARIN = "00054429725"
TRANSIENT = "00143978501"


def transaction(
    ndc: str = AMOXICILLIN,
    rx_number: str = "7000001",
    fill_number: int = 0,
    quantity: Decimal = Decimal("30"),
    days_supply: int | None = 10,
    prior_auth_number: str | None = None,
    dur: tuple[DurPps, ...] = (),
    prescriber_id: str | None = "1234567893",
) -> ClaimTransaction:
    """One B1 transaction with sensible defaults."""
    return ClaimTransaction(
        claim=ClaimSegment(
            rx_reference_qualifier="1",
            rx_number=rx_number,
            product_id_qualifier="03",
            product_id=ndc,
            quantity_dispensed=quantity,
            fill_number=fill_number,
            days_supply=days_supply,
            daw_code="0",
            date_written=date(2026, 1, 2),
            refills_authorized=5,
            prior_auth_type="1" if prior_auth_number else None,
            prior_auth_number=prior_auth_number,
        ),
        prescriber=PrescriberSegment(prescriber_id_qualifier="01", prescriber_id=prescriber_id, last_name="QUILL"),
        dur_pps=DurPpsSegment(entries=dur) if dur else None,
        pricing=PricingSegment(ingredient_cost=Decimal("12.34"), dispensing_fee=Decimal("1.75"), basis_of_cost="01"),
    )


def request(
    *transactions: ClaimTransaction,
    code: str = "B1",
    on: date = date(2026, 3, 1),
    cardholder_id: str | None = "SYN000111",
    bin_: str = "999001",
) -> ClaimRequest:
    """A request from a synthetic pharmacy for a synthetic patient."""
    return ClaimRequest(
        transaction_code=code,  # type: ignore[arg-type]
        bin=bin_,
        processor_control_number="RXHUBSIM",
        service_provider_id="1993999998",
        date_of_service=on,
        software_vendor_id="RXHUB",
        insurance=InsuranceSegment(cardholder_id=cardholder_id, group_id="GRP01", person_code="001", relationship="1"),
        patient=PatientSegment(date_of_birth=date(1980, 4, 5), gender="2", first_name="ALEX", last_name="SAMPLE"),
        transactions=transactions or (transaction(),),
    )
