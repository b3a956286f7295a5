"""Overpunch money and implied-decimal quantities, against the table in standards.md §4.1."""

from decimal import Decimal

import pytest

from adapters.ncpdp.d0 import decode_overpunch, decode_quantity, encode_overpunch, encode_quantity
from hub.errors import MessageContentError

TABLE = [
    ("500{", Decimal("50.00")),
    ("557{", Decimal("55.70")),
    ("716E", Decimal("71.65")),
    ("0000601I", Decimal("60.19")),
    ("I", Decimal("0.09")),
    ("A", Decimal("0.01")),
    ("{", Decimal("0.00")),
    ("10177E", Decimal("1017.75")),
    ("J", Decimal("-0.01")),
    ("100}", Decimal("-10.00")),
    ("123R", Decimal("-12.39")),
]


@pytest.mark.parametrize(("text", "amount"), TABLE)
def test_decode_overpunch(text: str, amount: Decimal) -> None:
    assert decode_overpunch(text) == amount


@pytest.mark.parametrize(("text", "amount"), [(t, a) for t, a in TABLE if not t.startswith("0")])
def test_encode_overpunch(text: str, amount: Decimal) -> None:
    assert encode_overpunch(amount) == text


def test_encode_overpunch_pads_to_width() -> None:
    assert encode_overpunch(Decimal("60.19"), width=8) == "0000601I"


def test_negative_zero_is_brace_close() -> None:
    assert encode_overpunch(Decimal("-0.00")) == "}"
    assert decode_overpunch("}").is_signed()


@pytest.mark.parametrize("text", ["", "12", "1{2", "-10{", "ab{", "1.0{", "\uff11{"])
def test_bad_overpunch_is_a_syntax_error(text: str) -> None:
    with pytest.raises(MessageContentError) as caught:
        decode_overpunch(text, "F9")
    assert (caught.value.problems[0].code, caught.value.problems[0].location) == ("R8", "F9")


def test_encode_refuses_fractions_of_a_cent() -> None:
    with pytest.raises(ValueError, match="decimal places"):
        encode_overpunch(Decimal("1.005"))


@pytest.mark.parametrize(
    ("text", "quantity"),
    [
        ("30000", Decimal("30")),
        ("0000030000", Decimal("30")),
        ("120000", Decimal("120")),
        ("1", Decimal("0.001")),
    ],
)
def test_quantity_round_trip(text: str, quantity: Decimal) -> None:
    assert decode_quantity(text) == quantity
    assert encode_quantity(quantity) == text.lstrip("0")


@pytest.mark.parametrize("text", ["", "3.0", "-30", " 30"])
def test_bad_quantity(text: str) -> None:
    with pytest.raises(MessageContentError):
        decode_quantity(text, "E7")
