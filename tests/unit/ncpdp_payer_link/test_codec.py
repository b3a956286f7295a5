"""D0ClaimCodec: ClaimRequestData -> D.0 bytes -> parsed back with the d0 reader, field by field."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.ncpdp.d0 import ClaimRequest, parse_request, read_claim_request
from adapters.ncpdp.payer_link import D0ClaimCodec, routing_key
from hub.domain.claim_exchange import ClaimPatient, ClaimTransaction
from hub.errors import DomainError
from tests.unit.ncpdp_payer_link.claim_data import PHARMACY_NPI, PRESCRIBER_NPI, claim


def decoded(body: bytes) -> ClaimRequest:
    return read_claim_request(parse_request(body))


def test_b1_carries_every_field_the_payer_needs() -> None:
    encoded = D0ClaimCodec(software_vendor_id="VEND01").encode(claim(fill_number=1))
    assert encoded.routing_key == "999001.RXHUBSIM"
    assert encoded.content_type == "application/x-ncpdp-d0"
    sent = decoded(encoded.body)
    assert (sent.transaction_code, sent.bin, sent.processor_control_number) == ("B1", "999001", "RXHUBSIM")
    assert (sent.service_provider_id_qualifier, sent.service_provider_id) == ("01", PHARMACY_NPI)
    assert (sent.date_of_service, sent.software_vendor_id) == (date(2026, 3, 1), "VEND01")
    assert sent.insurance is not None and sent.patient is not None
    insurance = sent.insurance
    assert (insurance.cardholder_id, insurance.group_id, insurance.person_code, insurance.relationship) == (
        "SYN000111",
        "GRP01",
        "001",
        "1",
    )
    patient = sent.patient
    assert (patient.first_name, patient.last_name, patient.date_of_birth, patient.gender) == (
        "Alex",
        "Sample",
        date(1980, 4, 5),
        "2",
    )
    [transaction] = sent.transactions
    c = transaction.claim
    assert (c.rx_reference_qualifier, c.rx_number, c.product_id_qualifier, c.product_id) == (
        "1",
        "7000001",
        "03",
        "00093005801",
    )
    assert (c.quantity_dispensed, c.fill_number, c.days_supply, c.daw_code) == (Decimal("30"), 1, 10, "0")
    assert (c.date_written, c.refills_authorized) == (date(2026, 2, 27), 2)
    assert (c.prior_auth_type, c.prior_auth_number, c.submission_clarification_codes) == (None, None, ())
    assert transaction.prescriber is not None
    p = transaction.prescriber
    assert (p.prescriber_id_qualifier, p.prescriber_id, p.last_name) == ("01", PRESCRIBER_NPI, "Quill")
    assert transaction.dur_pps is None
    assert transaction.pricing is not None
    assert (transaction.pricing.usual_and_customary, transaction.pricing.gross_amount_due) == (
        Decimal("12.99"),
        Decimal("12.99"),
    )


def test_prior_auth_dur_pps_and_clarification_codes_are_sent() -> None:
    data = claim(
        prior_auth_number="PA778899",
        dur_pps=(("DD", "M0", "1G"), ("ER", "R0", "1B")),
        clarification_codes=("3", "7"),
        daw_code="1",
        quantity=Decimal("22.5"),
    )
    [transaction] = decoded(D0ClaimCodec().encode(data).body).transactions
    assert (transaction.claim.prior_auth_type, transaction.claim.prior_auth_number) == ("1", "PA778899")
    assert transaction.claim.submission_clarification_codes == ("3", "7")
    assert (transaction.claim.daw_code, transaction.claim.quantity_dispensed) == ("1", Decimal("22.5"))
    assert transaction.dur_pps is not None
    sets = [(e.counter, e.reason, e.professional_service, e.result) for e in transaction.dur_pps.entries]
    assert sets == [("1", "DD", "M0", "1G"), ("2", "ER", "R0", "1B")]


def test_b2_reversal_carries_only_what_matches_the_paid_claim() -> None:
    encoded = D0ClaimCodec().encode(claim(transaction=ClaimTransaction.REVERSAL, fill_number=2))
    sent = decoded(encoded.body)
    assert sent.transaction_code == "B2"
    assert sent.patient is None, "no patient details on a reversal"
    assert sent.insurance is not None and sent.insurance.cardholder_id == "SYN000111"
    [transaction] = sent.transactions
    assert (transaction.prescriber, transaction.dur_pps, transaction.pricing) == (None, None, None)
    c = transaction.claim
    assert (c.rx_reference_qualifier, c.rx_number, c.product_id_qualifier, c.product_id, c.fill_number) == (
        "1",
        "7000001",
        "03",
        "00093005801",
        2,
    )
    assert c.quantity_dispensed is None and c.days_supply is None


def test_b3_rebill_is_a_full_claim() -> None:
    sent = decoded(D0ClaimCodec().encode(claim(transaction=ClaimTransaction.REBILL)).body)
    assert sent.transaction_code == "B3"
    assert sent.transactions[0].claim.quantity_dispensed == Decimal("30")
    assert sent.patient is not None


def test_optional_segments_are_left_out_when_there_is_nothing_to_say() -> None:
    data = claim(
        pcn=None,
        prescriber_npi=None,
        usual_and_customary=None,
        gross_amount_due=None,
        cardholder_id=None,
        group_id=None,
        person_code=None,
        relationship=None,
    )
    encoded = D0ClaimCodec().encode(data)
    assert encoded.routing_key == "999001.-"
    sent = decoded(encoded.body)
    assert sent.processor_control_number == "" and sent.insurance is None
    assert (sent.transactions[0].prescriber, sent.transactions[0].pricing) == (None, None)


@pytest.mark.parametrize(
    ("bin_", "pcn", "key"),
    [
        ("999001", "ADV", "999001.ADV"),
        ("999001", None, "999001.-"),
        ("999001", "  ", "999001.-"),
        ("610014", "A.B", "610014.A_B"),
    ],
)
def test_routing_key_is_bin_then_pcn_or_dash(bin_: str, pcn: str | None, key: str) -> None:
    assert routing_key(bin_, pcn) == key


def test_names_outside_ascii_are_transliterated_not_refused() -> None:
    data = claim(
        patient=ClaimPatient(first_name="José", last_name="Müller-Łukasz", gender_code="1"),
        prescriber_last_name="Ñúñez",
    )
    sent = decoded(D0ClaimCodec().encode(data).body)
    assert sent.patient is not None
    assert (sent.patient.first_name, sent.patient.last_name) == ("Jose", "Muller-ukasz")
    assert sent.transactions[0].prescriber is not None
    assert sent.transactions[0].prescriber.last_name == "Nunez"


@pytest.mark.parametrize(
    "change",
    [
        {"quantity": Decimal("1.2345")},
        {"bin": "1234567"},
        {"pharmacy_npi": "1" * 16},
        {"dur_pps": tuple(("DD", "M0", "1G") for _ in range(10))},
        {"cardholder_id": "SYN\u00a0\x07"},
    ],
)
def test_a_claim_d0_cannot_carry_is_a_domain_error_without_the_value(change: dict[str, object]) -> None:
    with pytest.raises(DomainError, match=r"rx-1:0:1:B1 cannot be sent as D\.0") as caught:
        D0ClaimCodec().encode(claim(**change))
    assert "SYN" not in str(caught.value), "member ids and names stay out of error text"


_text = st.text(alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1, max_size=10)


@given(
    rx_number=_text,
    fill=st.integers(0, 99),
    quantity=st.decimals(min_value=Decimal("0.001"), max_value=Decimal("9999999.999"), places=3),
    days=st.integers(1, 999),
    pa=st.none() | _text,
    codes=st.lists(st.sampled_from(["1", "2", "3", "4", "5", "6", "7", "8", "99"]), max_size=3),
    dur=st.lists(
        st.tuples(
            st.sampled_from(["DD", "ER", "TD"]), st.sampled_from(["M0", "R0"]), st.sampled_from(["1A", "1B", "1G"])
        ),
        max_size=9,
    ),
    amount=st.none() | st.decimals(min_value=Decimal("0"), max_value=Decimal("99999.99"), places=2),
    transaction=st.sampled_from(list(ClaimTransaction)),
)
def test_round_trip_property(
    rx_number: str,
    fill: int,
    quantity: Decimal,
    days: int,
    pa: str | None,
    codes: list[str],
    dur: list[tuple[str, str, str]],
    amount: Decimal | None,
    transaction: ClaimTransaction,
) -> None:
    data = claim(
        rx_number=rx_number,
        fill_number=fill,
        quantity=quantity,
        days_supply=days,
        prior_auth_number=pa,
        clarification_codes=tuple(codes),
        dur_pps=tuple(dur),
        usual_and_customary=amount,
        gross_amount_due=amount,
        transaction=transaction,
    )
    sent = decoded(D0ClaimCodec().encode(data).body)
    c = sent.transactions[0].claim
    assert (sent.transaction_code, c.rx_number, c.fill_number) == (transaction.value, rx_number, fill)
    if transaction is ClaimTransaction.REVERSAL:
        return
    assert (c.quantity_dispensed, c.days_supply, c.prior_auth_number) == (quantity, days, pa)
    assert c.submission_clarification_codes == tuple(codes)
    entries = sent.transactions[0].dur_pps.entries if sent.transactions[0].dur_pps else ()
    assert [(e.reason, e.professional_service, e.result) for e in entries] == dur
    pricing = sent.transactions[0].pricing
    assert (pricing.usual_and_customary if pricing else None) == amount
