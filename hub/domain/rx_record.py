"""The prescription's stored state and the helpers every workflow step uses.

``Prescription`` is this record with its steps, which its parts (``ClaimLedger``, ``Intake``...) carry out
on it; the record holds the fields, the one way a fill's state changes (``_move``, via the transition
tables) and the common parts of events.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict

from hub.domain.actors import Actor
from hub.domain.alerts import Alert, Finding
from hub.domain.catalogue import Product
from hub.domain.dur import ProfileEntry
from hub.domain.fill import Fill, StateChange
from hub.domain.order_context import Dosage, OrderContext, PatientDemographics, PatientLocation
from hub.domain.order_parts import (
    Allergy,
    CoverageInfo,
    DrugInfo,
    Identifier,
    PrescriberInfo,
    QuantityInfo,
    Setting,
    Source,
)
from hub.domain.states import TERMINAL_STATES, Action, RxState, next_state
from hub.errors import DomainError, IllegalTransition, NotFound


class UnresolvedAlerts(DomainError):
    """Data verification was approved while high-severity alerts had no pharmacist override."""

    def __init__(self, alert_ids: list[str]) -> None:
        super().__init__(f"override or resolve alerts {', '.join(alert_ids)} before approving")
        self.alert_ids = alert_ids


def _profile_entry(
    product: Product,
    rx_number: str,
    days_supply: int | None,
    fills: Sequence[tuple[RxState, date | None, int | None]],
    today: date,
) -> ProfileEntry:
    """The profile line: the last dispensed fill's date and supply; active while a fill is in progress or the
    last dispensed supply is not used up."""
    dispensed = [f for f in fills if f[0] is RxState.DISPENSED]
    last = dispensed[-1] if dispensed else None
    last_date = last[1] if last else None
    supply = last[2] if last else days_supply
    in_progress = bool(fills) and fills[-1][0] not in TERMINAL_STATES
    running = last_date is not None and supply is not None and (today - last_date).days <= supply
    return ProfileEntry.of(product, rx_number, last_date, supply, active=in_progress or running)


class PrescriptionRecord(BaseModel):
    """A prescription with its fills: the aggregate's state, stored as one JSON document."""

    model_config = ConfigDict(extra="forbid")

    prescription_id: str
    rx_number: str
    placer_order_number: str
    placer_system: str | None = None
    #: the principal that sent the order (``feed:NAME``...): only it may cancel or read it through a door;
    #: None for verbal orders (staff see every order)
    owner: str | None = None
    source: Source
    setting: Setting
    patient_id: str
    #: kept for the label only; events never carry it
    patient_name: str
    #: the patient's identifiers as the orders gave them (MRN...), for messages back to the sender's systems
    patient_identifiers: list[Identifier] = []
    allergies: list[Allergy] = []
    #: the patient as this order named them, for the feeds that send the order back (``order_context``)
    patient_demographics: PatientDemographics | None = None
    #: the inpatient's ward, room and bed as ordered (HL7 PV1-3)
    location: PatientLocation | None = None
    prescriber_id: str
    prescriber: PrescriberInfo
    #: the drug as the prescriber ordered it
    drug: DrugInfo
    #: the catalogue product chosen to dispense (snapshot, so DUR and labels do not depend on later edits)
    product: Product | None = None
    quantity: QuantityInfo | None = None
    days_supply: int | None = None
    sig: str | None = None
    dosage: Dosage | None = None
    substitution_allowed: bool = True
    written_date: date
    expires_on: date
    refills_authorized: int
    refills_remaining: int
    coverage: CoverageInfo | None = None
    #: the coverages billed after ``coverage``, secondary first (coordination of benefits)
    other_coverages: list[CoverageInfo] = []
    received_at: datetime
    received_by: str
    #: pharmacist who took a verbal order, and the licence on record for them when they took it
    verbal_taken_by: str | None = None
    verbal_licence: str | None = None
    raw_message_ref: str | None = None
    note: str | None = None
    #: why no further fill may be made (cancelled, rejected); None while the prescription is open
    closed_reason: str | None = None
    alerts: list[Alert] = []
    fills: list[Fill] = []

    @property
    def current_fill(self) -> Fill:
        """The latest fill: the one the workflow steps act on."""
        return self.fills[-1]

    @property
    def state(self) -> RxState:
        """The latest fill's state."""
        return self.current_fill.state

    @property
    def schedule(self) -> str | None:
        """DEA schedule of the selected product, else as the order declared it."""
        return self.product.schedule if self.product else self.drug.schedule

    def fill(self, fill_number: int | None = None) -> Fill:
        """The fill with this number (the latest: a partial fill's completion has its number), or the current one."""
        if fill_number is None:
            return self.current_fill
        for candidate in reversed(self.fills):
            if candidate.fill_number == fill_number:
                return candidate
        raise NotFound(f"Rx {self.rx_number} has no fill {fill_number}")

    def alerts_for(self, fill: Fill) -> list[Alert]:
        """Alerts the pharmacist reviews for a fill: the prescription's own and the fill's DUR findings."""
        return [a for a in self.alerts if a.fill_number in (None, fill.fill_number)]

    def open_alerts(self, answered: Iterable[str] = ()) -> list[Alert]:
        """The current fill's high-severity alerts without an override, besides those ``answered`` now: what
        keeps data verification from being approved (``UnresolvedAlerts``)."""
        skip = set(answered)
        return [a for a in self.alerts_for(self.current_fill) if a.blocking and a.alert_id not in skip]

    def profile_entry(self, today: date) -> ProfileEntry | None:
        """This prescription as a line of the patient's medication profile, for screening another order."""
        if self.product is None or self.closed_reason is not None:
            return None
        fills = [(f.state, f.filled_at.date() if f.filled_at else None, f.days_supply) for f in self.fills]
        return _profile_entry(self.product, self.rx_number, self.days_supply, fills, today)

    def on_profile_until(self) -> date | None:
        """The last day this prescription can matter to screening another order: the day its last dispensed
        supply runs out (nothing dispensed: the day its last fill came to rest). None while a fill is in
        progress, or no fill exists yet: on the profile as long as it is open.

        Stored beside the document, so that screening skips supplies that ran out long ago without reading
        them (a patient's profile grows by every prescription of years of refills); ``profile_entry`` is
        inactive and finds no early refill past this day (``InteractionTable.early_refill_threshold`` <= 1).
        """
        if not self.fills or self.fills[-1].state not in TERMINAL_STATES:
            return None
        last = self._last_dispensed()
        if last is not None and last.filled_at is not None:
            return last.filled_at.date() + timedelta(days=last.days_supply or 0)
        rest = self.fills[-1]
        return (rest.history[-1].at if rest.history else rest.created_at).date()

    @staticmethod
    def profile_entry_of(document: Mapping[str, Any], today: date) -> ProfileEntry | None:
        """``profile_entry`` of a stored prescription, reading only what the profile needs from its document
        (screening an order against a long profile must not rebuild every aggregate)."""
        product = document.get("product")
        if product is None or document.get("closed_reason") is not None:
            return None
        fills = [
            (
                RxState(f["state"]),
                datetime.fromisoformat(f["filled_at"]).date() if f.get("filled_at") else None,
                f.get("days_supply"),
            )
            for f in document.get("fills") or ()
        ]
        return _profile_entry(
            Product.model_validate(product), document["rx_number"], document.get("days_supply"), fills, today
        )

    def _last_dispensed(self) -> Fill | None:
        dispensed = [f for f in self.fills if f.state is RxState.DISPENSED]
        return dispensed[-1] if dispensed else None

    def _move(self, fill: Fill, action: Action, actor: Actor, now: datetime, note: str | None = None) -> RxState:
        """Apply one transition from the table to ``fill``; returns the state it left."""
        previous = fill.state
        fill.state = next_state(self.setting, previous, action)
        fill.history.append(
            StateChange(action=action, source=previous, target=fill.state, actor_id=actor.user_id, at=now, note=note)
        )
        return previous

    def _require_state(self, fill: Fill, state: RxState, action: str) -> None:
        """Guard for steps that use a shared action but start from one state only (e.g. intake)."""
        if fill.state is not state:
            raise IllegalTransition(fill.state.value, action)

    def _attach(self, findings: list[Finding], fill_number: int | None) -> list[Alert]:
        """Turn findings into alerts with ids, skipping ones already attached."""
        added: list[Alert] = []
        for finding in findings:
            known = any(
                (a.kind, a.text, a.fill_number) == (finding.kind, finding.text, fill_number) for a in self.alerts
            )
            if known:
                continue
            alert = Alert(alert_id=f"A{len(self.alerts) + 1}", fill_number=fill_number, **finding.model_dump())
            self.alerts.append(alert)
            added.append(alert)
        return added

    def _event_fields(self, fill: Fill) -> dict[str, Any]:
        """The fields every fill event shares."""
        return {
            "prescription_id": self.prescription_id,
            "rx_number": self.rx_number,
            "fill_number": fill.fill_number,
            "placer_order_number": self.placer_order_number,
            "placer_system": self.placer_system,
            "setting": self.setting,
            "state": fill.state.value,
            "patient_identifiers": tuple(self.patient_identifiers),
        }

    def order_context(self) -> OrderContext:
        """The order's clinical content for outbound feeds (``hub.domain.order_context``)."""
        patient = self.patient_demographics or PatientDemographics(family_name=self.patient_name or None)
        patient = patient.model_copy(
            update={"identifiers": tuple(self.patient_identifiers), "allergies": tuple(self.allergies)}
        )
        return OrderContext(
            patient=patient,
            location=self.location,
            prescriber=self.prescriber,
            drug=self.drug,
            product_ndc=self.product.ndc11 if self.product else None,
            product_name=" ".join(p for p in (self.product.name, self.product.strength, self.product.form) if p)
            if self.product
            else None,
            product_unit=self.product.unit if self.product else None,
            dosage=self.dosage,
            sig=self.sig,
            quantity=self.quantity,
            refills_remaining=self.refills_remaining,
        )

    def _product_or_fail(self) -> Product:
        if self.product is None:
            raise DomainError(f"Rx {self.rx_number} has no product selected")
        return self.product

    def _dispense_quantity(self) -> Decimal | None:
        return self.quantity.value if self.quantity else None
