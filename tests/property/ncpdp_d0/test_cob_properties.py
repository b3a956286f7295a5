"""Hypothesis property of the COB claim (issue 33, part 3): whatever the earlier payers paid or rejected, the AM05
the codec writes reads back as the same payers, amounts, dates and reject codes, with the matching 308-C8."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from adapters.ncpdp.d0 import parse_request, read_claim_request
from adapters.ncpdp.payer_link import D0ClaimCodec
from hub.domain.claim_exchange import OtherPayment, coverage_code_after
from tests.unit.ncpdp_payer_link.claim_data import claim

bins = st.text("0123456789", min_size=6, max_size=6)
days = st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31))
amounts = st.decimals(min_value=Decimal("0"), max_value=Decimal("99999.99"), places=2)
code = st.text("0123456789ABCDEFGHJKLMNPRSTUVWXYZ", min_size=2, max_size=2)
codes = st.lists(code, min_size=1, max_size=5).map(tuple)
paid = st.builds(OtherPayment, sequence=st.integers(1, 3), bin=bins, answered_on=days, amount_paid=amounts)
rejected = st.builds(OtherPayment, sequence=st.integers(1, 3), bin=bins, answered_on=days, reject_codes=codes)


@given(st.lists(st.one_of(paid, rejected), min_size=1, max_size=3).map(tuple))
def test_cob_claim_reads_back_what_the_earlier_payers_did(payments: tuple[OtherPayment, ...]) -> None:
    body = D0ClaimCodec().encode(claim(bin="999003", other_payments=payments)).body
    [transaction] = read_claim_request(parse_request(body)).transactions
    assert transaction.claim.other_coverage_code == coverage_code_after(payments)
    assert transaction.cob is not None
    read = [
        (p.coverage_type, p.payer_id, p.payer_date, p.total_paid if p.amounts_paid else None, p.reject_codes)
        for p in transaction.cob.other_payers
    ]
    sent = [(f"{p.sequence:02d}", p.bin, p.answered_on, p.amount_paid, p.reject_codes) for p in payments]
    assert read == sent
