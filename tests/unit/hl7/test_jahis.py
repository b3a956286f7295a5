"""Japan's JAHIS profile as SS-MIX2 stores it (tests/data/hl7): ISO-2022-JP text, several items per ORC-2."""

from __future__ import annotations

from decimal import Decimal

import pytest

from adapters.hl7.mapping import to_commands
from adapters.hl7.parsing import parse_message
from adapters.hl7.validation import validate_header
from hub.domain.commands import ReceivePrescription
from hub.domain.order_parts import Setting
from hub.errors import MessageContentError
from tests.support.hl7_data import JAHIS_INJECTION, JAHIS_THREE_ITEMS, message, stored


def test_the_stored_sample_is_iso_2022_jp_with_delimiter_bytes_inside_characters() -> None:
    """Why the message must be decoded before it is split: JIS X 0208 bytes include 0x7C."""
    raw = stored(JAHIS_THREE_ITEMS)
    assert raw.count(b"|") - raw.decode("iso2022_jp").count("|") == 3


def test_iso_ir87_is_decoded_before_the_message_is_split() -> None:
    msg = parse_message(message(JAHIS_THREE_ITEMS))
    pid = msg.first("PID")
    assert pid is not None and (pid.get(5, 1), pid.get(5, 2), pid.get(5, 1, 2)) == ("患者", "太郎", "カンジャ")
    assert all(len(s.fields) < 40 for s in msg.segments if s.segment_id == "RXE")  # no field shifted


def test_three_items_under_one_orc2_are_three_prescriptions() -> None:
    msg = parse_message(message(JAHIS_THREE_ITEMS))
    validate_header(msg.header)
    cmds = to_commands(msg)
    assert all(isinstance(c, ReceivePrescription) for c in cmds)
    rx = [c for c in cmds if isinstance(c, ReceivePrescription)]
    assert [c.placer_order_number for c in rx] == [
        "000000011000185/1/108665201",
        "000000011000185/1/110626901",
        "000000011000185/2/100607002",
    ]
    # the sample's own full-width characters, as the prescriber's system wrote them
    assert [c.drug.text for c in rx] == ["ダーゼン錠（５mg)", "パンスポリンＴ錠（１００mg)", "アレピアチン１０倍散"]  # noqa: RUF001
    assert [[(o.code, o.system) for o in c.drug.other_codes] for c in rx] == [
        [("108665201", "HOT9")],
        [("110626901", "HOT9")],
        [("100607002", "HOT9")],
    ]
    assert [(c.quantity.value, c.quantity.unit) for c in rx if c.quantity] == [
        (Decimal("15"), "TAB"),
        (Decimal("30"), "TAB"),
        (Decimal("1400"), "MG"),
    ]
    # JAHIS gives the usage in TQ1-3 only: code&text&JAMISDP01
    assert [c.sig for c in rx] == ["内服・経口・１日３回朝昼夕食後"] * 2 + ["内服・経口・１日２回朝夕食後"]
    assert {(c.placer_system, c.setting, c.prescriber.family_name) for c in rx} == {
        ("HIS123^SEND", Setting.OUTPATIENT, "医師")
    }


def test_a_resend_of_the_sample_maps_to_the_same_items() -> None:
    def numbers() -> list[str]:
        return [c.placer_order_number for c in to_commands(parse_message(message(JAHIS_THREE_ITEMS)))]  # type: ignore[attr-defined]

    assert numbers() == numbers()


def test_the_injection_sample_is_an_admixture_refused_at_each_first_rxc() -> None:
    msg = parse_message(message(JAHIS_INJECTION))
    validate_header(msg.header)
    with pytest.raises(MessageContentError) as caught:
        to_commands(msg)
    assert [(p.code, p.location) for p in caught.value.problems] == [
        ("200", "RXC^1"),
        ("200", "RXC^3"),
        ("200", "RXC^5"),
    ]
    assert caught.value.control_id == "20110701000001"
