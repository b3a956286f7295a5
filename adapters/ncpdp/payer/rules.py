"""Benefit rules for one claim, in the order a payer applies them; each returns reject codes or nothing.

Codes from standards.md §4.4: M/I data errors first, then coverage (70), prior auth (75), plan limits
(76), refill too soon (79) and DUR (88). Partial fills (343-HD P) must say what the whole fill is (344-HF,
345-HG); a completion (C), or a later portion (a P naming the one before it in 456-EN, 21 CFR 1306.13(b)), must
follow an unreversed P of the same Rx and fill number and never take the total above the quantity intended
(M/I codes HD, HF, HG: unverified, named after the fields as NCPDP's M/I codes are).
"""

from __future__ import annotations

from datetime import timedelta
from decimal import ROUND_CEILING, Decimal

from adapters.ncpdp.d0.claim_request import ClaimRequest, ClaimTransaction
from adapters.ncpdp.payer.config import DrugRule, PayerConfig
from adapters.ncpdp.payer.history import ClaimHistory
from hub.domain.claim_codes import DUR_REJECT_CODE

NDC_LENGTH = 11


def missing_or_invalid(request: ClaimRequest, transaction: ClaimTransaction) -> list[str]:
    """M/I codes: 07 cardholder, 16 Rx number, 21 product, E7 quantity, 19 days supply, 25 prescriber."""
    claim = transaction.claim
    prescriber = transaction.prescriber
    checks = [
        ("07", request.insurance is not None and bool(request.insurance.cardholder_id)),
        ("16", bool(claim.rx_number)),
        # a compound names no product in AM07 (407-D7 = 0): its ingredients are in AM10
        ("21", _is_ndc(claim.product_id) or (claim.compound_code or "").strip() == "2"),
        ("E7", claim.quantity_dispensed is not None and claim.quantity_dispensed > 0),
        ("19", claim.days_supply is not None and claim.days_supply > 0),
        ("25", prescriber is not None and bool(prescriber.prescriber_id)),
    ]
    return [code for code, ok in checks if not ok]


def partial_or_completion(history: ClaimHistory, request: ClaimRequest, transaction: ClaimTransaction) -> list[str]:
    """HD/HF/HG for a P or C that does not add up: no whole given, no partial to complete, more than intended."""
    claim = transaction.claim
    status = (claim.dispensing_status or "").strip()
    if not status:
        return []
    if status not in ("P", "C"):
        return ["HD"]
    dispensed = claim.quantity_dispensed or Decimal("0")
    if claim.quantity_intended is None or claim.quantity_intended < dispensed:
        return ["HF"]
    if claim.days_supply_intended is None or claim.days_supply_intended <= 0:
        return ["HG"]
    if status == "P" and not claim.associated_rx_number:
        return []
    cardholder, rx_number = (
        (request.insurance.cardholder_id if request.insurance else None) or "",
        claim.rx_number or "",
    )
    partial = history.partial_of(cardholder, rx_number, claim.fill_number or 0)
    if partial is None:
        return ["HD"]
    intended = partial.quantity_intended or Decimal("0")
    before = history.dispensed_in_parts(cardholder, rx_number, claim.fill_number or 0)
    if claim.quantity_intended != intended or before + dispensed > intended:
        return ["HF"]
    return []


#: 308-C8 values saying another payer was billed first: 2 it paid, 3 it did not cover the claim, 4 it paid $0
COB_CODES = frozenset({"2", "3", "4"})


def secondary_without_cob(config: PayerConfig, request: ClaimRequest, transaction: ClaimTransaction) -> list[str]:
    """41 (submit to the primary payer first) when a secondary-only plan gets a claim without a 308-C8 saying
    another payer was billed, or without the AM05 saying what that payer paid or rejected."""
    if request.bin not in config.secondary_bins:
        return []
    said = (transaction.claim.other_coverage_code or "").strip() in COB_CODES
    shown = transaction.cob is not None and bool(transaction.cob.other_payers)
    return [] if said and shown else ["41"]


def unknown_member(config: PayerConfig, request: ClaimRequest) -> list[str]:
    """07 when the plan lists its members and the cardholder is not one of them."""
    cardholder = request.insurance.cardholder_id if request.insurance else None
    return ["07"] if config.members and cardholder not in config.members else []


def _is_ndc(product_id: str | None) -> bool:
    return product_id is not None and len(product_id) == NDC_LENGTH and product_id.isdigit()


def benefit_rejects(
    config: PayerConfig, drug: DrugRule | None, request: ClaimRequest, transaction: ClaimTransaction
) -> list[str]:
    """70 not covered, 75 prior auth, 76 plan limits: the first that applies."""
    claim = transaction.claim
    if drug is None or not drug.covered:
        return ["70"]
    if drug.prior_auth_required and not claim.prior_auth_number:
        return ["75"]
    max_quantity = drug.max_quantity or config.plan_limits.max_quantity
    max_days = drug.max_days_supply or config.plan_limits.max_days_supply
    if (claim.quantity_dispensed or 0) > max_quantity or (claim.days_supply or 0) > max_days:
        return ["76"]
    return []


def refill_too_soon(
    config: PayerConfig, history: ClaimHistory, request: ClaimRequest, transaction: ClaimTransaction
) -> list[str]:
    """79 when ``refill_threshold`` of the last paid fill's days supply has not elapsed by this DOS."""
    cardholder = request.insurance.cardholder_id if request.insurance else None
    rx_number = transaction.claim.rx_number
    previous = history.last_fill(cardholder or "", rx_number or "")
    # the completion of a partial fill (same fill number) is no refill
    if previous is None or previous.key.fill_number == transaction.claim.fill_number:
        return []
    wait = (Decimal(previous.days_supply) * config.refill_threshold).to_integral_value(ROUND_CEILING)
    earliest = previous.key.date_of_service + timedelta(days=int(wait))
    return ["79"] if request.date_of_service < earliest else []


def dur_reject(drug: DrugRule, transaction: ClaimTransaction) -> list[str]:
    """88 for a DUR-flagged drug unless an AM08 set answers it with 440-E5 and 441-E6."""
    if drug.dur_reason is None:
        return []
    entries = transaction.dur_pps.entries if transaction.dur_pps else ()
    answered = any(e.professional_service and e.result for e in entries)
    return [] if answered else [DUR_REJECT_CODE]
