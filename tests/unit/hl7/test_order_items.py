"""One prescription per ORDER group when groups share ORC-2 (JAHIS style): identities, resends, cancels."""

from __future__ import annotations

import pytest

from adapters.hl7.mapping import to_commands
from adapters.hl7.order_items import PLACER_NUMBER_MAX
from adapters.hl7.parsing import parse_message
from hub.domain.commands import CancelPrescription, Command, ReceivePrescription
from hub.errors import MessageContentError

MSH = "MSH|^~\\&|HIS|HOSP|RXHUB|PHARM|20250101120000||RDE^O11^RDE_O11|C1|P|2.5"
PID = "PID|1||P1^^^^PI||DOE^JANE||19800102|F"


def group(control: str, orc2: str, orc4: str, code: str = "") -> list[str]:
    """One ORDER group; ``code`` empty: the group carries no RXE at all."""
    orc = f"ORC|{control}|{orc2}||{orc4}|||||20250101|||110^DOC^ONE"
    return [orc, f"RXE||{code}^drug {code}^HOT9|1||TAB|||||10|TAB", "RXR|PO"] if code else [orc]


def numbers(*groups: list[str]) -> list[str]:
    return [c.placer_order_number for c in commands(*groups)]  # type: ignore[attr-defined]


def commands(*groups: list[str]) -> list[Command]:
    segments = [MSH, PID] + [seg for g in groups for seg in g]
    return to_commands(parse_message("\r".join(segments).encode()))


PRESCRIPTION = (group("NW", "RX9", "1", "A1"), group("NW", "RX9", "1", "B2"), group("NW", "RX9", "2", "C3"))


def test_groups_sharing_orc2_become_one_item_each_named_by_orc4_and_drug() -> None:
    cmds = commands(*PRESCRIPTION)
    assert all(isinstance(c, ReceivePrescription) for c in cmds)
    assert numbers(*PRESCRIPTION) == ["RX9/1/A1", "RX9/1/B2", "RX9/2/C3"]


def test_a_resend_derives_the_same_items() -> None:
    assert numbers(*PRESCRIPTION) == numbers(*PRESCRIPTION)


def test_a_lone_orc2_keeps_its_number() -> None:
    assert numbers(group("NW", "RX9", "1", "A1"), group("NW", "RX10", "1", "B2")) == ["RX9", "RX10"]


def test_the_same_drug_twice_in_one_rp_is_numbered_from_the_second() -> None:
    same = (group("NW", "RX9", "1", "A1"), group("NW", "RX9", "1", "A1"), group("NW", "RX9", "2", "A1"))
    assert numbers(*same) == ["RX9/1/A1", "RX9/1/A1/2", "RX9/2/A1"]


def test_a_cancel_of_every_item_names_each_item() -> None:
    cancels = [group("CA", "RX9", "1", "A1"), group("CA", "RX9", "1", "B2"), group("CA", "RX9", "2", "C3")]
    cmds = commands(*cancels)
    assert all(isinstance(c, CancelPrescription) for c in cmds)
    assert numbers(*cancels) == numbers(*PRESCRIPTION)


def test_a_cancel_of_some_items_names_those_items_not_the_first_ones() -> None:
    """Positions would have named items 1 and 2 here: the wrong drugs."""
    assert numbers(group("DC", "RX9", "1", "B2"), group("DC", "RX9", "2", "C3")) == ["RX9/1/B2", "RX9/2/C3"]


def test_a_cancel_and_a_new_order_under_one_number_keep_it() -> None:
    """Repetition is counted among new orders and among cancels apart: replacing X keeps X for both."""
    assert numbers(group("CA", "RX9", "1", "A1"), group("NW", "RX9", "1", "A1")) == ["RX9", "RX9"]


def test_a_cancel_of_shared_orc2_without_its_drug_cannot_name_an_item() -> None:
    with pytest.raises(MessageContentError) as caught:
        commands(group("CA", "RX9", "1"), group("CA", "RX9", "2"))
    assert [(p.code, p.location) for p in caught.value.problems] == [("101", "ORC^1"), ("101", "ORC^2")]


def test_a_drug_given_by_text_only_names_the_item_by_its_text() -> None:
    by_text = [*group("NW", "RX9", "1"), "RXE||^Aspirin 100 mg|1||TAB|||||10|TAB"]
    assert numbers(by_text, group("NW", "RX9", "1", "B2")) == ["RX9/1/Aspirin 100 mg", "RX9/1/B2"]


def test_a_placer_number_longer_than_the_hub_keeps_is_refused() -> None:
    long = "9" * (PLACER_NUMBER_MAX - 4)  # fits alone; "/1/A1" makes it one too long
    with pytest.raises(MessageContentError) as caught:
        commands(group("NW", long, "1", "A1"), group("NW", long, "1", "B2"))
    assert [(p.code, p.location) for p in caught.value.problems] == [("104", "ORC^1^2"), ("104", "ORC^2^2")]
    assert numbers(group("NW", "9" * PLACER_NUMBER_MAX, "1", "A1")) == ["9" * PLACER_NUMBER_MAX]
