"""Synthetic ClaimRequestData for payer-link tests (made-up people and ids; NPIs pass the Luhn check).

NDCs are the ones hub/data/payer-sim.json configures.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from hub.domain.claim_exchange import ClaimPatient, ClaimRequestData, ClaimTransaction

AMOXICILLIN = "00093005801"
HYDROCODONE = "00591040501"
INSULIN = "00002821501"
ADALIMUMAB = "00074336813"
WARFARIN = "00054429725"
SIM_BIN = "999001"
DOWN_BIN = "999092"
PHARMACY_NPI = "1993999998"
PRESCRIBER_NPI = "1234567893"


def claim(
    prescription_id: str = "rx-1",
    *,
    fill_number: int = 0,
    attempt: int = 1,
    transaction: ClaimTransaction = ClaimTransaction.BILLING,
    **changes: Any,
) -> ClaimRequestData:
    """A B1 for 30 amoxicillin capsules on 2026-03-01; ``changes`` override any field."""
    values: dict[str, Any] = {
        "exchange_id": f"{prescription_id}:{fill_number}:{attempt}:{transaction.value}",
        "prescription_id": prescription_id,
        "fill_number": fill_number,
        "attempt": attempt,
        "transaction": transaction,
        "bin": SIM_BIN,
        "pcn": "RXHUBSIM",
        "group_id": "GRP01",
        "cardholder_id": "SYN000111",
        "person_code": "001",
        "relationship": "1",
        "patient": ClaimPatient(first_name="Alex", last_name="Sample", birth_date=date(1980, 4, 5), gender_code="2"),
        "prescriber_npi": PRESCRIBER_NPI,
        "prescriber_last_name": "Quill",
        "pharmacy_npi": PHARMACY_NPI,
        "rx_number": "7000001",
        "ndc": AMOXICILLIN,
        "quantity": Decimal("30"),
        "days_supply": 10,
        "written_date": date(2026, 2, 27),
        "refills_authorized": 2,
        "daw_code": "0",
        "date_of_service": date(2026, 3, 1),
        "usual_and_customary": Decimal("12.99"),
        "gross_amount_due": Decimal("12.99"),
    }
    values.update(changes)
    return ClaimRequestData(**values)
