"""Each prescription's line in a work queue, rendered once per version of the prescription.

A stored aggregate changes only with its version (optimistic lock), so a poll reads the queue's ids, versions
and states, and decodes and renders only the prescriptions that changed since the last poll.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from sqlalchemy import Connection

from adapters.ncpdp.d0.reject_codes import describe_reject
from hub.domain.claim import CLARIFICATION_CODES, ClaimStatus
from hub.domain.claim_codes import NO_ANSWER_CODE, NOT_DELIVERED_CODE
from hub.domain.fill import Fill
from hub.domain.payer_sheet import SHEET_CODE
from hub.domain.prescription import Prescription
from hub.domain.return_window import DEFAULT_WINDOW_DAYS, return_by
from hub.domain.rx_claims import PAYER_REVERSED_CODE
from hub.entrypoints.http.staff_models import QueueItem
from hub.persistence.prescriptions import PrescriptionRepository, PrescriptionRow, load_aggregate

#: most lines of a work queue (PrescriptionRepository.in_states' limit)
QUEUE_LIMIT = 200
#: past this many lines not yet rendered, the whole queue is read at once rather than row by row
_FEW = 20

QueueKey = tuple[str, int, str]


class QueueItems:
    """Each prescription's queue line, kept as JSON per (id, version, state).

    A stored aggregate changes only with its version (optimistic lock), so a poll reads the queue's ids,
    versions and states, and decodes and renders only the prescriptions that changed since the last poll.
    """

    def __init__(self, max_entries: int = 4096, window: Callable[[Fill], float] | None = None) -> None:
        self._max = max_entries
        #: a fill's return-to-stock window in days (will-call shows when it must be sold by)
        self._window = window or (lambda fill: DEFAULT_WINDOW_DAYS)
        self._lines: OrderedDict[QueueKey, bytes] = OrderedDict()
        self._lock = threading.Lock()

    def cached(self, key: QueueKey) -> bytes | None:
        """The line of this version of a prescription, when it was rendered before."""
        with self._lock:
            return self._lines.get(key)

    def line(self, row: PrescriptionRow) -> bytes:
        """The JSON of one row's QueueItem."""
        key = (row.id, row.version, row.state)
        found = self.cached(key)
        if found is None:
            item = queue_item(load_aggregate(row), self._window).model_dump(mode="json")
            found = json.dumps(item, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode()
            with self._lock:
                self._lines[key] = found
                while len(self._lines) > self._max:
                    self._lines.popitem(last=False)
        return found

    def queue(self, conn: Connection, states: list[str]) -> list[bytes]:
        """The lines of a work queue, oldest first."""
        repo = PrescriptionRepository(conn)
        keys = repo.queue_keys(states, QUEUE_LIMIT)
        lines = [self.cached(key) for key in keys]
        missing = [i for i, line in enumerate(lines) if line is None]
        if len(missing) > _FEW:
            return [self.line(row) for row in repo.in_states(states, QUEUE_LIMIT)]
        if missing:  # new or changed since the last poll, read in one query
            rows = repo.by_ids([keys[i][0] for i in missing])
            for i in missing:
                row = rows.get(keys[i][0])
                lines[i] = self.line(row) if row is not None and row.state in states else None
        return [line for line in lines if line is not None]


def queue_item(rx: Prescription, window: Callable[[Fill], float] = lambda fill: DEFAULT_WINDOW_DAYS) -> QueueItem:
    fill = rx.current_fill
    detail: dict[str, Any] = {
        "fill_number": fill.fill_number,
        "alerts": [a.model_dump(mode="json") for a in rx.alerts_for(fill)],
    }
    if rx.product is not None:
        detail["ndc"] = rx.product.ndc11
    if fill.claim is not None:
        detail["claim"] = fill.claim.model_dump(mode="json")
        detail["patient_id"] = rx.patient_id  # an E1 eligibility check asks about the patient
        detail["reject_texts"] = {code: _reject_text(code) for code in fill.claim.reject_codes}
        if fill.claim.status is ClaimStatus.REJECTED:  # what a resubmission may add as 420-DK
            detail["clarification_choices"] = CLARIFICATION_CODES
        due = fill.patient_pay  # what will-call collects: the copay of a paid claim, or the cash price
        detail["amount_due"] = str(due) if due is not None else None
        sell_by = return_by(fill, window(fill))  # past it, pickup is refused (hub.domain.return_window)
        detail["return_by"] = sell_by.isoformat() if sell_by else None
    if fill.needs_product_reason:
        detail["needs_product_reason"] = fill.needs_product_reason
    if fill.short_stock is not None:  # the fill queue's choice: partial fill now or wait for stock
        detail["short_stock"] = fill.short_stock.model_dump(mode="json")
        detail["partial"] = fill.partial.model_dump(mode="json") if fill.partial else None
    if fill.dispensing_status is not None:  # a partial fill (P) or its completion (C): the rest owed, until when
        detail["partial_fill"] = rx.partial_facts(fill)
    if fill.label is not None:
        detail["picks"] = [p.model_dump(mode="json") for p in fill.picks]
        detail["label"] = fill.label.model_dump(mode="json")
    return QueueItem(
        prescription_id=rx.prescription_id,
        rx_number=rx.rx_number,
        state=fill.state.value,
        setting=rx.setting.value,
        patient=rx.patient_name,
        drug=_drug(rx),
        quantity=str(fill.quantity) if fill.quantity is not None else None,
        waiting_since=(fill.history[-1].at if fill.history else fill.created_at).isoformat(),
        detail=detail,
    )


def _drug(rx: Prescription) -> str | None:
    """The drug as a queue shows it; a compound with its ingredients, which its name alone does not say."""
    name = rx.product.display_name if rx.product else rx.drug.text or rx.drug.ndc
    compound = rx.drug.compound
    return f"{name} ({compound.describe()})" if compound else name


def _reject_text(code: str) -> str:
    """NCPDP 511-FB reject codes in words, plus the hub's own codes for unanswered claims."""
    own = {
        NO_ANSWER_CODE: "No answer from the payer in time: the claim is being reversed before any resubmission",
        NOT_DELIVERED_CODE: "No payer connection for this BIN: the claim was never sent",
        SHEET_CODE: "Not sent: the claim lacks fields the payer sheet requires (named in the payer message)",
        PAYER_REVERSED_CODE: "The payer approved a late reversal of this paid claim: rebill it",
    }
    return own.get(code) or describe_reject(code).text
