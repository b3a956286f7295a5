"""Claim steps: the B1 submitted at intake, the payer's answers, the exception queue and the B2 reversal."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from hub.domain.actors import Actor, require_pharmacist
from hub.domain.alerts import AlertKind, Finding, Severity
from hub.domain.claim import Claim, ClaimStatus, DurPps, PayerDurAlert
from hub.domain.claim_codes import PAYER_REVERSED_CODE as PAYER_REVERSED_CODE
from hub.domain.coordination import (
    claim_to_next_payer,
    left_to_pay,
    next_after_payment,
    next_after_reject,
    reversal_after,
)
from hub.domain.events import Event
from hub.domain.fill import Fill
from hub.domain.order_parts import CoverageInfo
from hub.domain.rx_record import PrescriptionRecord
from hub.domain.states import Action, RxState
from hub.domain.workflow_events import (
    ClaimPaid,
    ClaimRejected,
    ClaimReversalRequired,
    ClaimReversed,
    ClaimStatusUnknown,
    ClaimSubmitted,
)
from hub.errors import DomainError, IllegalTransition


class ClaimLedger:
    """The claim part of a prescription: the B1 at intake, the payer's answers, the exception queue, the B2."""

    def __init__(self, rx: PrescriptionRecord) -> None:
        self.rx = rx

    def claim_paid(
        self,
        actor: Actor,
        now: datetime,
        *,
        total_paid: Decimal | None,
        patient_pay: Decimal | None,
        authorization_number: str | None = None,
        fill_number: int | None = None,
        payer_dur: tuple[PayerDurAlert, ...] = (),
        payer_message: str | None = None,
    ) -> list[Event]:
        """The payer paid (D.0 status P or D): on to the pharmacist, with the payer's DUR findings and
        messages (AM24, 504-F4/526-FQ) as alerts for their review; with a patient share left and another
        coverage, the next payer is billed first (``hub.domain.coordination``)."""
        fill = self.rx.fill(fill_number)
        following = next_after_payment(self.rx.other_coverages, _payer_of(fill), patient_pay)
        if following is None:
            self.rx._move(fill, Action.CLAIM_PAID, actor, now)
        else:
            self.rx._require_state(fill, RxState.CLAIM_PENDING, "record a paid claim for")
        claim = self._claim(fill)
        claim.payer_dur, claim.payer_message = list(payer_dur), payer_message
        findings = [payer_finding(d) for d in payer_dur]
        if payer_message:
            findings.append(
                Finding(kind=AlertKind.PAYER_MESSAGE, severity=Severity.LOW, text=f"Payer message: {payer_message}")
            )
        self.rx._attach(findings, fill.fill_number)
        claim.status, claim.answered_at = ClaimStatus.PAID, now
        claim.total_paid, claim.patient_pay, claim.authorization_number = (
            total_paid,
            patient_pay,
            authorization_number,
        )
        paid = ClaimPaid(
            **self.rx._event_fields(fill),
            total_paid=total_paid,
            patient_pay=patient_pay,
            authorization_number=authorization_number,
        )
        return [paid, *self._bill_next_payer(fill, following, now)]

    def claim_rejected(
        self,
        actor: Actor,
        now: datetime,
        *,
        reject_codes: list[str],
        payer_message: str | None = None,
        fill_number: int | None = None,
    ) -> list[Event]:
        """The payer rejected (D.0 status R): the fill waits in the technician's exception queue, unless the
        reject lets the patient's next coverage be billed (``coordination.NEXT_PAYER_REJECTS``)."""
        fill = self.rx.fill(fill_number)
        following = next_after_reject(self.rx.other_coverages, _payer_of(fill), reject_codes)
        if following is None:
            self.rx._move(fill, Action.CLAIM_REJECTED, actor, now, ",".join(reject_codes))
        else:
            self.rx._require_state(fill, RxState.CLAIM_PENDING, "record a rejected claim for")
        claim = self._claim(fill)
        claim.status, claim.answered_at = ClaimStatus.REJECTED, now
        claim.reject_codes, claim.payer_message = list(reject_codes), payer_message
        event = ClaimRejected(
            **self.rx._event_fields(fill),
            reject_codes=tuple(reject_codes),
            payer_message=payer_message,
            attempt=claim.attempt,
        )
        return [event, *self._bill_next_payer(fill, following, now)]

    def claim_status_unknown(
        self, actor: Actor, now: datetime, *, code: str, payer_message: str, fill_number: int | None = None
    ) -> list[Event]:
        """No answer in time: the fill waits in the exception queue under ``code`` as after a reject, while the
        hub reverses first; announced as ``claim.status_unknown``, for the payer may have paid."""
        self.claim_rejected(actor, now, reject_codes=[code], payer_message=payer_message, fill_number=fill_number)
        fill = self.rx.fill(fill_number)
        return [
            ClaimStatusUnknown(
                **self.rx._event_fields(fill), payer_message=payer_message, attempt=self._claim(fill).attempt
            )
        ]

    def unknown_claim_reversed(
        self, actor: Actor, now: datetime, *, fill_number: int, authorization_number: str | None = None
    ) -> list[Event]:
        """The payer approved the reversal the hub sent for a claim it did not answer: it had paid it, and no
        longer does (the claim stays in the exception queue for its one resubmission)."""
        fill = self.rx.fill(fill_number)
        return [
            ClaimReversed(
                **self.rx._event_fields(fill),
                authorization_number=authorization_number,
                attempt=self._claim(fill).attempt,
                reason="status_unknown",
            )
        ]

    def resubmit_claim(
        self,
        actor: Actor,
        now: datetime,
        *,
        prior_auth_number: str | None = None,
        dur_pps: DurPps | None = None,
        coverage: CoverageInfo | None = None,
        clarification_codes: tuple[str, ...] = (),
    ) -> list[Event]:
        """Send the claim again after a reject; DUR/PPS override codes (reject 88) need a pharmacist.

        ``coverage``: the technician's corrections (reject 07, 41, 65...); fields it leaves empty keep the
        rejected claim's values."""
        if dur_pps is not None:
            require_pharmacist(actor, "override a DUR reject with DUR/PPS codes")
        fill = self.rx.current_fill
        self.rx._move(fill, Action.RESUBMIT_CLAIM, actor, now)
        previous = self._claim(fill)
        fill.claim = self._new_claim(corrected(_coverage_of(previous), coverage), now, previous.attempt + 1)
        fill.claim.payer = previous.payer  # a secondary's resubmission is still the secondary's claim (AM05)
        fill.claim.prior_auth_number, fill.claim.dur_pps = prior_auth_number, dur_pps
        fill.claim.clarification_codes = list(clarification_codes)
        return [self._claim_submitted(fill)]

    def bill_cash(self, actor: Actor, now: datetime, amount: Decimal | None = None) -> list[Event]:
        """Resolve a rejected claim by charging the patient; on to the pharmacist."""
        fill = self.rx.current_fill
        self.rx._require_state(fill, RxState.CLAIM_REJECTED, "bill as cash")
        self.rx._move(fill, Action.BILL_CASH, actor, now)
        amount = amount or left_to_pay(fill) or self._price()  # after a secondary's reject: the primary's copay
        fill.claim = Claim(status=ClaimStatus.CASH, amount_requested=amount, submitted_at=now)
        return []

    def claim_reversed(
        self,
        actor: Actor,
        now: datetime,
        *,
        fill_number: int,
        authorization_number: str | None = None,
        attempt: int | None = None,
    ) -> list[Event]:
        """The payer approved the B2 reversal that cancel, rejection or return to stock asked for (of claim
        ``attempt``, default the fill's last); an earlier payer's paid claim is reversed next."""
        fill = self.rx.fill(fill_number)
        claim = fill.claim_of(attempt) if attempt else fill.claim
        if claim is None or claim.status is not ClaimStatus.REVERSAL_REQUIRED:
            raise IllegalTransition(claim.status.value if claim else "no claim", "record a claim reversal")
        claim.status, claim.reversed_at = ClaimStatus.REVERSED, now
        approved = ClaimReversed(
            **self.rx._event_fields(fill), authorization_number=authorization_number, attempt=claim.attempt
        )
        earlier = reversal_after(fill)
        if earlier is None:
            return [approved]
        return [approved, self._reversal_required(fill, earlier, claim.reversal_reason or "reversed")]

    def rebill_claim(
        self,
        actor: Actor,
        now: datetime,
        *,
        coverage: CoverageInfo | None = None,
        clarification_codes: tuple[str, ...] = (),
    ) -> list[Event]:
        """A technician corrected a paid claim's data before filling: a B3 rebill to the payer that paid, for the
        same date of service; the fill waits for the payer's answer again. Group, cardholder and person code
        may change; another BIN or PCN is another payer (cancel and bill it instead), and a fill billed to two
        payers would rebill both (not done here)."""
        fill = self.rx.current_fill
        paid = self._claim(fill)
        fixed = corrected(_coverage_of(paid), coverage)
        if paid.status is not ClaimStatus.PAID or fill.earlier_claims:
            raise IllegalTransition(paid.status.value, "rebill a claim that is not one payer's paid claim")
        if (fixed.bin, fixed.pcn) != (paid.bin, paid.pcn):
            raise DomainError("a rebill goes to the payer that paid: another BIN or PCN is a new claim")
        self.rx._move(fill, Action.REBILL_CLAIM, actor, now)
        fill.claim = self._new_claim(fixed, paid.submitted_at or now, paid.attempt + 1)
        fill.claim.rebill, fill.claim.clarification_codes = True, list(clarification_codes)
        fill.claim.prior_auth_number, fill.claim.dur_pps = paid.prior_auth_number, paid.dur_pps
        return [self._claim_submitted(fill)]

    def claim_reversed_late(
        self, actor: Actor, now: datetime, *, fill_number: int, authorization_number: str | None = None
    ) -> list[Event]:
        """A reversal the payer approved late undid the fill's paid claim: it is marked reversed, and a fill
        still before filling goes back to the technician's exception queue to be rebilled (code ``RV``)."""
        fill = self.rx.fill(fill_number)
        claim = fill.claim
        if claim is None or claim.status is not ClaimStatus.PAID:
            raise IllegalTransition(claim.status.value if claim else "no claim", "record a late payer reversal")
        if fill.state is RxState.DATA_VERIFICATION:
            self.rx._move(fill, Action.PAYER_REVERSED, actor, now, PAYER_REVERSED_CODE)
        claim.status, claim.reversed_at = ClaimStatus.REVERSED, now
        claim.reject_codes = [PAYER_REVERSED_CODE]
        claim.payer_message = "the payer approved a late reversal of this paid claim: rebill it"
        return [self._claim_reversed(fill, authorization_number)]

    def _claim_reversed(self, fill: Fill, authorization_number: str | None) -> ClaimReversed:
        return ClaimReversed(
            **self.rx._event_fields(fill), authorization_number=authorization_number, attempt=self._claim(fill).attempt
        )

    def _bill_next_payer(self, fill: Fill, coverage: CoverageInfo | None, now: datetime) -> list[Event]:
        """Bill ``coverage`` after the fill's answered claim, which joins the earlier payers' claims."""
        if coverage is None:
            return []
        answered = self._claim(fill)
        fill.earlier_claims.append(answered)
        fill.claim = claim_to_next_payer(answered, coverage, now)
        return [self._claim_submitted(fill)]

    def _reversal_required(self, fill: Fill, claim: Claim, reason: str) -> ClaimReversalRequired:
        """Mark ``claim`` to be reversed (B2) and say so."""
        claim.status, claim.reversal_reason = ClaimStatus.REVERSAL_REQUIRED, reason
        return ClaimReversalRequired(
            **self.rx._event_fields(fill),
            ndc=fill.ndc or "",
            bin=claim.bin,
            pcn=claim.pcn,
            authorization_number=claim.authorization_number,
            total_paid=claim.total_paid,
            date_of_service=claim.submitted_at.date() if claim.submitted_at else None,
            reason=reason,
            attempt=claim.attempt,
        )

    def _claim(self, fill: Fill) -> Claim:
        if fill.claim is None:
            fill.claim = Claim(status=ClaimStatus.SUBMITTED)
        return fill.claim

    def _price(self) -> Decimal | None:
        product, quantity = self.rx.product, self.rx._dispense_quantity()
        if product is None or quantity is None or not product.unit_price:
            return None
        return (product.unit_price * quantity).quantize(Decimal("0.01"))

    def _new_claim(self, coverage: CoverageInfo, now: datetime, attempt: int) -> Claim:
        return Claim(
            status=ClaimStatus.SUBMITTED,
            bin=coverage.bin,
            pcn=coverage.pcn,
            group_id=coverage.group_id,
            cardholder_id=coverage.cardholder_id,
            person_code=coverage.person_code,
            amount_requested=self._price(),
            attempt=attempt,
            submitted_at=now,
        )

    def _claim_submitted(self, fill: Fill) -> ClaimSubmitted:
        claim, product = self._claim(fill), self.rx._product_or_fail()
        return ClaimSubmitted(
            **self.rx._event_fields(fill),
            patient_id=self.rx.patient_id,
            prescriber_npi=self.rx.prescriber.npi,
            ndc=product.ndc11,
            quantity=fill.quantity or Decimal("0"),
            unit=product.unit,
            days_supply=fill.days_supply,
            substitution_allowed=self.rx.substitution_allowed,
            written_date=self.rx.written_date,
            date_of_service=(claim.submitted_at or self.rx.received_at).date(),
            bin=claim.bin,
            pcn=claim.pcn,
            group_id=claim.group_id,
            cardholder_id=claim.cardholder_id,
            amount_requested=claim.amount_requested,
            attempt=claim.attempt,
            prior_auth_number=claim.prior_auth_number,
            dur_pps=claim.dur_pps,
            payer=claim.payer,
            transaction="B3" if claim.rebill else "B1",
        )


#: 528-FS clinical significance -> how much the alert matters (1 major blocks approval until answered)
_SIGNIFICANCE = {"1": Severity.HIGH, "2": Severity.MODERATE, "3": Severity.LOW}


def payer_finding(dur: PayerDurAlert) -> Finding:
    """A payer's AM24 finding as an alert; unspecified significance is treated as moderate."""
    severity = _SIGNIFICANCE.get((dur.clinical_significance or "").strip(), Severity.MODERATE)
    return Finding(kind=AlertKind.PAYER_DUR, severity=severity, text=dur.describe())


def _payer_of(fill: Fill) -> int:
    return fill.claim.payer if fill.claim is not None else 1


def _coverage_of(claim: Claim) -> CoverageInfo:
    return CoverageInfo(
        bin=claim.bin,
        pcn=claim.pcn,
        group_id=claim.group_id,
        cardholder_id=claim.cardholder_id,
        person_code=claim.person_code,
    )


def corrected(coverage: CoverageInfo, correction: CoverageInfo | None) -> CoverageInfo:
    """The claim's coverage with what a technician corrected; an empty field is no correction."""
    if correction is None:
        return coverage
    return coverage.model_copy(update=correction.model_dump(exclude_none=True))
