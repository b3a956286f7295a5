"""A work queue line names a compound's ingredients beside its name (the technician's queues and the staff API)."""

from __future__ import annotations

from decimal import Decimal

from hub.domain.order_parts import DrugInfo, QuantityInfo
from hub.entrypoints.http.queue_lines import queue_item
from tests.unit.domain.builders import NOW, SYSTEM, context, received
from tests.unit.domain.test_compound import mouthwash


def test_a_queue_line_names_a_compounds_ingredients() -> None:
    rx = received(
        drug=DrugInfo(text="Magic mouthwash", compound=mouthwash()), quantity=QuantityInfo(value=Decimal("240"))
    )
    rx.intake(SYSTEM, NOW, context())
    line = queue_item(rx)
    assert line.drug is not None and line.drug.startswith("Magic mouthwash")
    assert "viscous lidocaine (NDC 99999000101) 120 mL" in line.drug
