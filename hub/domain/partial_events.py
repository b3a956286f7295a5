"""Public events of partial fills: part of a fill dispensed now, and the later dispense of its rest.

Both keep the fill's number: a payer bills the part as 343-HD P and the rest as C on the same Rx and fill, and
subscribers match them the same way. The part and the rest each have their own ``fill.completed``,
``prescription.ready`` and ``prescription.dispensed`` as any fill does.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import ClassVar

from hub.domain.messages import Event
from hub.domain.workflow_events import FillEvent


class FillPartiallyFilled(FillEvent):
    """A pharmacist or technician chose to dispense part of a fill now (343-HD P); the rest is owed."""

    name: ClassVar[str] = "fill.partial"

    actor_id: str
    #: dispensed now (D.0 442-E7), of the whole fill intended (344-HF)
    quantity: Decimal
    quantity_intended: Decimal
    days_supply: int | None = None
    days_supply_intended: int | None = None
    reason: str
    #: pharmacy (short of stock), patient or prescriber: which 21 CFR 1306.13 limit a schedule II rest keeps
    requested_by: str
    #: 21 CFR 1306.13(b) as the pharmacist recorded it ("terminally ill", "LTCF patient"); None otherwise
    designation: str | None = None
    #: the paid claim of the whole fill is billed again (B3) for the part dispensed now
    rebilled: bool
    #: schedule II only: when the rest may last be dispensed; past it the rest is not dispensable
    complete_by: datetime | None = None


class FillCompletionStarted(FillEvent):
    """The rest of a partial fill is to be dispensed (343-HD C), as a new fill with the same fill number.

    It is billed, verified, picked, labelled and picked up on its own."""

    name: ClassVar[str] = "fill.completion_started"

    actor_id: str
    #: the rest (D.0 442-E7 of the completion), and the whole fill intended (344-HF)
    quantity: Decimal
    quantity_intended: Decimal
    #: already handed over by the partial fill
    dispensed_before: Decimal


class PartialFillClosed(FillEvent):
    """The rest of a partial fill will never be dispensed (declined, or past its deadline): nothing is owed.

    Billed to a payer, the P claim is reversed (B2) and what was dispensed billed again as a whole fill (B1
    without 343-HD); ``claim.reversal_required``, ``claim.reversed``, ``claim.submitted`` and the answer follow."""

    name: ClassVar[str] = "fill.partial_closed"

    actor_id: str
    reason: str
    #: what the patient received (the B1's 442-E7), and what stopped being owed
    quantity_dispensed: Decimal
    owed_cancelled: Decimal
    #: the P claim is reversed and the quantity dispensed billed again whole
    rebilled: bool


#: the events of this module a subscriber can bind to
PUBLISHED: tuple[type[Event], ...] = (FillPartiallyFilled, FillCompletionStarted, PartialFillClosed)
