"""A simulated payer: D.0 request bytes in, D.0 response bytes out, no I/O (the process wrapper adds the
broker, delays and dropped answers).

Order of decisions, per transaction: host down (92) -> an inconsistent compound (``compounds``) -> M/I data (07, 16,
21, E7, 19, 25; HD, HF, HG for a partial fill, a later portion or its completion; 41 when a secondary-only plan's
claim does not say what the payer before it did) -> duplicate of paid (D) -> coverage (70) -> prior auth (75) ->
limits (76) -> refill too soon (79) -> DUR (88) -> paid (P). B2 reverses a matching paid claim (A), answers S for
one already reversed and rejects 87 ("reversal not processed", unverified code) when nothing matches. B3 reverses
the matching paid claim, then bills again (how a fill paid whole is billed again as a partial fill, 343-HD P).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import cast

from adapters.ncpdp.d0.claim_request import (
    ClaimRequest,
    ClaimTransaction,
    ClaimTransactionCode,
    read_claim_request,
)
from adapters.ncpdp.d0.claim_response import ClaimResponse, TransactionResponse, build_claim_response
from adapters.ncpdp.d0.parser import parse_request
from adapters.ncpdp.d0.reject_codes import describe_reject
from adapters.ncpdp.d0.response_segments import (
    ResponseClaimSegment,
    ResponseDur,
    ResponseDurSegment,
    ResponsePricingSegment,
    ResponseStatusSegment,
)
from adapters.ncpdp.payer import compounds, rules
from adapters.ncpdp.payer.config import DrugRule, PayerConfig
from adapters.ncpdp.payer.history import ClaimHistory, ClaimKey, PaidClaim
from hub.domain.claim_codes import DUR_REJECT_CODE, HOST_UNAVAILABLE_CODE, NOTHING_TO_REVERSE_CODE
from hub.errors import MessageContentError

_MAX_REJECT_CODES = 5
_CENT = Decimal("0.01")


class Adjudicator:
    """Answers claims the way the configured plan would."""

    def __init__(self, config: PayerConfig) -> None:
        self._config = config

    def respond(self, request: bytes, history: ClaimHistory) -> bytes:
        """The response bytes for request bytes; paid and reversed claims are recorded in ``history``."""
        try:
            claim_request = read_claim_request(parse_request(request))
        except MessageContentError as exc:
            return build_claim_response(_unreadable(request, exc))
        return build_claim_response(self.adjudicate(claim_request, history))

    def adjudicate(self, request: ClaimRequest, history: ClaimHistory) -> ClaimResponse:
        """The typed response for a typed request."""
        if request.bin not in self._config.bins:
            return _transmission_rejected(request, ["01"])
        if request.bin in self._config.transient_bins:
            return _transmission_rejected(request, [HOST_UNAVAILABLE_CODE])
        if request.transaction_code == "E1":
            return _eligibility(request, rules.unknown_member(self._config, request))
        answers = tuple(self._transaction(request, t, history) for t in request.transactions)
        return ClaimResponse(
            transaction_code=request.transaction_code,
            service_provider_id_qualifier=request.service_provider_id_qualifier,
            service_provider_id=request.service_provider_id,
            date_of_service=request.date_of_service,
            transactions=answers,
        )

    def _transaction(
        self, request: ClaimRequest, transaction: ClaimTransaction, history: ClaimHistory
    ) -> TransactionResponse:
        key = _key(request, transaction)
        if request.transaction_code == "B2":
            return _reverse(key, history)
        if request.transaction_code == "B3":
            found = history.find(key)
            if found is not None and not found.reversed:
                history.reverse(key)
        return self._bill(request, transaction, key, history)

    def _bill(
        self, request: ClaimRequest, transaction: ClaimTransaction, key: ClaimKey, history: ClaimHistory
    ) -> TransactionResponse:
        compound = compounds.terms(self._config, transaction)
        drug = compound.rule if compound else self._config.drugs.get(transaction.claim.product_id or "")
        if drug is not None and drug.transient:
            return _rejected(key, [HOST_UNAVAILABLE_CODE])
        codes = compounds.rejects(transaction) or rules.missing_or_invalid(request, transaction)
        codes = codes or rules.unknown_member(self._config, request)
        codes = codes or rules.partial_or_completion(history, request, transaction)
        codes = codes or rules.secondary_without_cob(self._config, request, transaction)
        if codes:
            return _rejected(key, codes)
        paid = history.find(key)
        if paid is not None and not paid.reversed:
            return _answer(key, "D", paid.authorization_number, paid.pricing)
        codes = rules.benefit_rejects(self._config, drug, request, transaction)
        codes = codes or rules.refill_too_soon(self._config, history, request, transaction)
        if codes or drug is None:
            return _rejected(key, codes or ["70"])
        if rules.dur_reject(drug, transaction):
            return _dur_rejected(key, drug)
        return self._pay(request, transaction, key, drug, history, compound.ingredient_cost if compound else None)

    def _pay(
        self,
        request: ClaimRequest,
        transaction: ClaimTransaction,
        key: ClaimKey,
        drug: DrugRule,
        history: ClaimHistory,
        ingredient_cost: Decimal | None = None,
    ) -> TransactionResponse:
        quantity = transaction.claim.quantity_dispensed or Decimal(0)
        pricing = _pricing(drug, quantity, _other_paid(transaction), ingredient_cost)
        authorization = history.next_authorization_number()
        cardholder = request.insurance.cardholder_id if request.insurance else ""
        history.record(
            PaidClaim(
                key=key,
                cardholder_id=cardholder or "",
                product_id=transaction.claim.product_id or "",
                days_supply=transaction.claim.days_supply or 0,
                authorization_number=authorization,
                pricing=pricing,
                dispensing_status=(transaction.claim.dispensing_status or "").strip() or None,
                quantity_dispensed=transaction.claim.quantity_dispensed or Decimal(0),
                quantity_intended=transaction.claim.quantity_intended,
            )
        )
        paid = _answer(key, "P", authorization, pricing)
        findings = self._interactions(cardholder or "", transaction.claim.product_id or "", history)
        return paid.model_copy(update={"dur": ResponseDurSegment(entries=findings)}) if findings else paid

    def _interactions(self, cardholder: str, ndc: str, history: ClaimHistory) -> tuple[ResponseDur, ...]:
        """AM24 sets for configured drug pairs whose other drug the payer has on file for this member."""
        rules_for = [r for r in self._config.interactions if r.ndc == ndc]
        if not rules_for:
            return ()
        here = history.products_of(cardholder)
        found: list[ResponseDur] = []
        for rule in rules_for:
            outside = [
                f
                for f in self._config.outside_fills
                if f.ndc == rule.with_ndc and f.cardholder_id in (None, cardholder)
            ]
            if outside:
                fill = outside[0]
                previous, quantity, pharmacy = fill.date_of_fill, str(fill.quantity), "3"
            elif rule.with_ndc in here:
                previous, quantity, pharmacy = here[rule.with_ndc].key.date_of_service, None, "1"
            else:
                continue
            found.append(
                ResponseDur(
                    counter=str(len(found) + 1),
                    reason=rule.reason,
                    clinical_significance=rule.clinical_significance,
                    other_pharmacy=pharmacy,
                    previous_fill_date=previous,
                    previous_fill_quantity=quantity,
                    database="1",
                    other_prescriber="0",
                    free_text=rule.text or None,
                )
            )
        return tuple(found[:9])


def _key(request: ClaimRequest, transaction: ClaimTransaction) -> ClaimKey:
    return ClaimKey(
        bin=request.bin,
        processor_control_number=request.processor_control_number,
        service_provider_id=request.service_provider_id,
        rx_number=transaction.claim.rx_number or "",
        fill_number=transaction.claim.fill_number or 0,
        date_of_service=request.date_of_service,
        dispensing_status=_key_status(transaction),
    )


def _key_status(transaction: ClaimTransaction) -> str:
    """C for a completion, P for a later portion of a partial fill (it names the one before it), else blank."""
    status = (transaction.claim.dispensing_status or "").strip()
    if status == "C" or (status == "P" and transaction.claim.associated_rx_number):
        return status
    return ""


def _other_paid(transaction: ClaimTransaction) -> Decimal | None:
    """What earlier payers paid (AM05 431-DV), None on a claim to the primary."""
    if transaction.cob is None or not transaction.cob.other_payers:
        return None
    return sum((p.total_paid for p in transaction.cob.other_payers), Decimal("0"))


def _pricing(
    drug: DrugRule, quantity: Decimal, other_paid: Decimal | None = None, ingredient_cost: Decimal | None = None
) -> ResponsePricingSegment:
    """As primary: the plan's price less the copay. As secondary: what the earlier payers left, the copay included
    (the secondary picks up the patient's share up to its own allowed amount). A compound's ingredient cost is
    given, priced from its ingredients."""
    ingredient = (drug.unit_cost * quantity).quantize(_CENT) if ingredient_cost is None else ingredient_cost
    gross = ingredient + drug.dispensing_fee
    if other_paid is None:
        patient_pay = min(drug.copay, gross)
        total = gross - patient_pay
    else:
        total, patient_pay = max(gross - other_paid, Decimal("0")), Decimal("0")
    return ResponsePricingSegment(
        patient_pay=patient_pay,
        ingredient_cost_paid=ingredient,
        dispensing_fee_paid=drug.dispensing_fee,
        total_paid=total,
        basis_of_reimbursement="1",
        copay=patient_pay,
    )


def _reverse(key: ClaimKey, history: ClaimHistory) -> TransactionResponse:
    paid = history.find(key)
    if paid is None:
        return _rejected(key, [NOTHING_TO_REVERSE_CODE])
    if paid.reversed:
        return _answer(key, "S", paid.authorization_number, None)
    history.reverse(key)
    return _answer(key, "A", paid.authorization_number, None)


def _answer(
    key: ClaimKey, status: str, authorization: str, pricing: ResponsePricingSegment | None
) -> TransactionResponse:
    return TransactionResponse(
        status=ResponseStatusSegment(transaction_status=status, authorization_number=authorization),
        claim=ResponseClaimSegment(rx_reference_qualifier="1", rx_number=key.rx_number),
        pricing=pricing,
    )


def _rejected(key: ClaimKey | None, codes: list[str]) -> TransactionResponse:
    codes = codes[:_MAX_REJECT_CODES]
    status = ResponseStatusSegment(
        transaction_status="R",
        reject_codes=tuple(codes),
        message_lines=tuple(describe_reject(c).text.upper() for c in codes),
    )
    claim = ResponseClaimSegment(rx_reference_qualifier="1", rx_number=key.rx_number) if key else None
    return TransactionResponse(status=status, claim=claim)


def _dur_rejected(key: ClaimKey, drug: DrugRule) -> TransactionResponse:
    rejected = _rejected(key, [DUR_REJECT_CODE])
    alert = ResponseDur(counter="1", reason=drug.dur_reason, clinical_significance="1", free_text=drug.dur_text)
    return rejected.model_copy(update={"dur": ResponseDurSegment(entries=(alert,))})


def _eligibility(request: ClaimRequest, unknown: list[str]) -> ClaimResponse:
    cardholder = request.insurance.cardholder_id if request.insurance else None
    answer = _answer_eligible() if cardholder and not unknown else _rejected(None, ["07"])
    return ClaimResponse(
        transaction_code="E1",
        service_provider_id_qualifier=request.service_provider_id_qualifier,
        service_provider_id=request.service_provider_id,
        date_of_service=request.date_of_service,
        transactions=(answer,),
    )


def _answer_eligible() -> TransactionResponse:
    return TransactionResponse(status=ResponseStatusSegment(transaction_status="A"))


def _transmission_rejected(request: ClaimRequest, codes: list[str]) -> ClaimResponse:
    count = max(len(request.transactions), 1)
    return ClaimResponse(
        transaction_code=request.transaction_code,
        header_response_status="R",
        service_provider_id_qualifier=request.service_provider_id_qualifier,
        service_provider_id=request.service_provider_id,
        date_of_service=request.date_of_service,
        transactions=tuple(_rejected(None, codes) for _ in range(count)),
    )


def _unreadable(raw: bytes, error: MessageContentError) -> ClaimResponse:
    """A transmission-level rejection for a request we could not read, echoing what header we can."""
    codes = list(dict.fromkeys(p.code for p in error.problems))
    code = raw[8:10].decode("ascii", "replace")
    return ClaimResponse(
        transaction_code=cast(ClaimTransactionCode, code if code in ("B1", "B2", "B3", "E1") else "B1"),
        header_response_status="R",
        service_provider_id_qualifier="01",
        service_provider_id=_printable(raw[23:38]),
        date_of_service=_date_or_epoch(raw[38:46]),
        message=_printable(error.problems[0].text.encode("ascii", "replace"))[:200] or None,
        transactions=(_rejected(None, codes),),
    )


def _printable(raw: bytes) -> str:
    return "".join(c for c in raw.decode("ascii", "replace") if c.isascii() and c.isprintable()).strip()


def _date_or_epoch(raw: bytes) -> date:
    text = raw.decode("ascii", "replace")
    try:
        return date(int(text[:4]), int(text[4:6]), int(text[6:8]))
    except ValueError:
        return date(1970, 1, 1)
