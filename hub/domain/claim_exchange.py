"""What the hub says to a payer and hears back, in pharmacy terms (the NCPDP adapter speaks D.0).

The claim worker builds a ``ClaimRequestData``; an adapter encodes it for the wire. The adapter turns the
payer's answer into a ``RecordClaimResponse`` command (see commands.py).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from enum import StrEnum

from hub.domain.compound import Compound
from hub.domain.order_parts import Frozen


class ClaimTransaction(StrEnum):
    """NCPDP D.0 transaction codes the hub sends."""

    BILLING = "B1"
    REVERSAL = "B2"
    REBILL = "B3"


class ClaimPatient(Frozen):
    """Patient details a payer needs to match the member."""

    first_name: str | None = None
    last_name: str | None = None
    birth_date: date | None = None
    #: NCPDP 305-C5: 0 unknown, 1 male, 2 female
    gender_code: str = "0"


class OtherPayment(Frozen):
    """What an earlier payer did with this fill, for a claim to the next payer (D.0 AM05)."""

    #: 1 primary, 2 secondary...: the position of the payer that answered
    sequence: int = 1
    bin: str
    #: the earlier payer's date of service / answer date (443-E8)
    answered_on: date
    #: what it paid (431-DV); None when it rejected
    amount_paid: Decimal | None = None
    #: its reject codes (472-6E), when it rejected
    reject_codes: tuple[str, ...] = ()


def coverage_code_after(payments: tuple[OtherPayment, ...]) -> str:
    """308-C8 on a claim to a later payer: 2 an earlier payer paid, 4 it paid nothing, 3 it rejected."""
    paid = [p.amount_paid for p in payments if p.amount_paid is not None]
    if any(amount > 0 for amount in paid):
        return "2"
    return "4" if paid else "3"


class ClaimRequestData(Frozen):
    """One claim transaction for one fill; ``exchange_id`` ties the payer's answer back to it."""

    #: "<prescription id>:<fill number>:<attempt>:<transaction>": unique per transmission
    exchange_id: str
    prescription_id: str
    fill_number: int
    attempt: int
    transaction: ClaimTransaction
    bin: str
    pcn: str | None = None
    group_id: str | None = None
    cardholder_id: str | None = None
    person_code: str | None = None
    relationship: str | None = None
    patient: ClaimPatient
    prescriber_npi: str | None = None
    prescriber_last_name: str | None = None
    pharmacy_npi: str
    rx_number: str
    ndc: str
    quantity: Decimal
    days_supply: int | None = None
    written_date: date | None = None
    refills_authorized: int = 0
    #: NCPDP 408-D8 product selection code
    daw_code: str = "0"
    prior_auth_number: str | None = None
    #: DUR/PPS overrides: (439-E4 reason, 440-E5 professional service, 441-E6 result)
    dur_pps: tuple[tuple[str, str, str], ...] = ()
    #: NCPDP 420-DK submission clarification codes
    clarification_codes: tuple[str, ...] = ()
    date_of_service: date
    usual_and_customary: Decimal | None = None
    gross_amount_due: Decimal | None = None
    #: DEA schedule "2".."5" of the product, None when not controlled (460-ET is required for CII)
    schedule: str | None = None
    #: NCPDP 460-ET quantity prescribed
    quantity_prescribed: Decimal | None = None
    #: NCPDP 419-DJ prescription origin: 0 unknown, 1 written, 2 telephone, 3 electronic, 4 fax, 5 pharmacy
    origin_code: str | None = None
    #: NCPDP 600-28 unit of measure: EA, GM, ML
    unit_of_measure: str | None = None
    #: NCPDP 308-C8 other coverage code (1 = no other coverage)
    other_coverage_code: str | None = None
    #: NCPDP 343-HD dispensing status (P partial, C completion), 344-HF/345-HG quantity/days intended
    dispensing_status: str | None = None
    quantity_intended: Decimal | None = None
    days_supply_intended: int | None = None
    #: NCPDP 456-EN / 457-EP on a completion: the Rx number and date of service of the partial fill it completes
    associated_rx_number: str | None = None
    associated_date: date | None = None
    #: NCPDP 409-D9 ingredient cost, 412-DC dispensing fee, 423-DN basis of cost determination
    ingredient_cost: Decimal | None = None
    dispensing_fee: Decimal | None = None
    basis_of_cost: str | None = None
    #: earlier payers' payments or rejects, on a claim to a secondary (or later) payer
    other_payments: tuple[OtherPayment, ...] = ()
    #: a compound is billed by its ingredients, each with its cost (None: the pharmacy has no price for it);
    #: ``ingredient_cost`` is then their sum
    compound: Compound | None = None
    compound_costs: tuple[Decimal | None, ...] = ()


class PayerStatus(StrEnum):
    """NCPDP 112-AN transaction response status, plus the hub's 'no answer in time'."""

    PAID = "P"
    DUPLICATE_OF_PAID = "D"
    REJECTED = "R"
    CAPTURED = "C"
    DUPLICATE_OF_CAPTURED = "Q"
    REVERSAL_APPROVED = "A"
    DUPLICATE_REVERSAL = "S"
    #: the payer did not answer within its timeout: status unknown
    NO_ANSWER = "timeout"


class EncodedClaim(Frozen):
    """A claim ready for the payer exchange."""

    routing_key: str
    body: bytes
    content_type: str = "application/x-ncpdp-d0"
