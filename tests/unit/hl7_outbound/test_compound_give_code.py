"""RXE-2 / RXD-2 of a compound: its name, never the hub's placeholder product id dressed as an NDC."""

from __future__ import annotations

from adapters.hl7.outbound.encoded_order_messages import give_code
from hub.domain.compound import COMPOUND_PRODUCT_ID


def test_a_compound_is_named_without_an_ndc() -> None:
    assert give_code(COMPOUND_PRODUCT_ID, None, "Magic mouthwash") == "^Magic mouthwash"
    assert give_code("00093005801", None, "Amoxicillin 500 mg") == "00093005801^Amoxicillin 500 mg^NDC"
