"""Every public D.0 sample either parses to the right values or fails with an error naming where."""

from datetime import date
from decimal import Decimal

import pytest

from adapters.ncpdp.d0 import (
    RequestTransmission,
    ResponseTransmission,
    build_batch_file,
    build_claim_request,
    build_transmission,
    parse_batch_file,
    parse_request,
    parse_response,
    parse_transmission,
    read_claim_request,
    read_claim_response,
)
from hub.errors import MessageContentError
from tests.unit.ncpdp_d0.corpus import CORPUS, sample

BARE = sorted(p.name for p in CORPUS.iterdir() if "batch" not in p.name and "odd_b1_response" not in p.name)
BATCHES = [
    "edifabric_batch12_d0_b1_requests_and_responses.ncpdp",
    "edifabric_batch12_d0_b1_single_claim.ncpdp",
]


@pytest.mark.parametrize("name", BARE)
def test_bare_transmissions_parse_and_rebuild_byte_for_byte(name: str) -> None:
    raw = sample(name)
    assert build_transmission(parse_transmission(raw)) == raw


@pytest.mark.parametrize("name", BATCHES)
def test_batch_files_unwrap_and_rewrap_byte_for_byte(name: str) -> None:
    raw = sample(name)
    assert build_batch_file(parse_batch_file(raw)) == raw


def test_batch_file_holds_request_batch_then_response_batch() -> None:
    requests, responses = parse_batch_file(sample(BATCHES[0]))
    assert [type(d.transmission) for d in requests.details] == [RequestTransmission] * 4
    assert [type(d.transmission) for d in responses.details] == [ResponseTransmission] * 9
    last = read_claim_response(responses.details[-1].transmission)  # type: ignore[arg-type]
    # EE is kept in order after 88, with its 546-4F occurrence indicators still in the raw segment
    assert last.transactions[0].status.reject_codes == ("88", "EE")


def test_single_claim_batch_carries_cob_segment_with_repeats() -> None:
    (batch,) = parse_batch_file(sample(BATCHES[1]))
    transmission = batch.details[0].transmission
    assert isinstance(transmission, RequestTransmission)
    assert transmission.header.bin == "004740"
    cob = transmission.groups[0].segment("05")
    assert cob is not None and cob.all("HC") == ["DATA3", "DATA5", "DATA9", "DATA11"]


def test_joseph_smith_request_typed_values() -> None:
    request = read_claim_request(parse_request(sample("edifabric_d0_b1_request_joseph_smith_pricing.ncpdp")))
    assert (request.bin, request.transaction_code, request.processor_control_number) == (
        "610066",
        "B1",
        "1234567890",
    )
    # the NCPDP spec examples write blanks as a literal "b"; we keep them as sent
    assert request.service_provider_id == "4563663bbbbbbbb"
    claim = request.transactions[0].claim
    assert (claim.product_id, claim.quantity_dispensed, claim.days_supply) == (
        "00006094268",
        Decimal("30"),
        30,
    )
    assert claim.submission_clarification_codes == ("4",)
    pricing = request.transactions[0].pricing
    assert pricing is not None and pricing.ingredient_cost == Decimal("55.70")
    assert pricing.usual_and_customary == Decimal("86.70")


def test_four_transaction_request_reads_each_claim_and_padded_overpunch() -> None:
    request = read_claim_request(parse_request(sample("transactrx_d0_b1_request_4_transactions.ncpdp")))
    assert [t.claim.rx_number for t in request.transactions] == [
        "000003671354",
        "000003671352",
        "000003671349",
        "000003671361",
    ]
    pricing = request.transactions[0].pricing
    assert pricing is not None and pricing.ingredient_cost == Decimal("60.19")  # "0000601I"
    assert request.insurance is not None and request.insurance.cardholder_id == "55558662900"


def test_full_segment_request_keeps_unknown_amxx_and_repeats() -> None:
    transmission = parse_request(sample("transactrx_d0_b1_request_full_segments.ncpdp"))
    group = transmission.groups[0]
    assert [s.segment_id for s in group.segments][-1] == "XX"
    claim = read_claim_request(transmission).transactions[0]
    assert claim.claim.submission_clarification_codes == ("20", "21")
    assert claim.dur_pps is not None
    assert [(e.reason, e.professional_service, e.result) for e in claim.dur_pps.entries] == [
        ("TD", "M0", "1G"),
        ("HD", "M0", "1G"),
        ("DD", "M0", "1G"),
    ]


@pytest.mark.parametrize(
    "name",
    [
        # "odd" only because of a non-standard segment: D.0 segments are self-describing (111-AM), so an
        # unknown one is kept, not an error; repeated field ids inside it (AD twice) stay in order
        "transactrx_odd_d0_b2_reversal_with_AM96_segment.ncpdp",
        "transactrx_odd_d0_b2_reversal_with_unknown_AMXX_segment.ncpdp",
    ],
)
def test_odd_reversals_with_unknown_segments_parse_and_keep_them(name: str) -> None:
    transmission = parse_request(sample(name))
    assert transmission.header.transaction_code == "B2"
    assert transmission.header.processor_control_number == "TESTTEST1"
    unknown = transmission.groups[0].segments[-1]
    assert unknown.segment_id in ("96", "XX")
    assert read_claim_request(transmission).transactions[0].claim.rx_number == "1159262"


def test_am96_keeps_repeated_field_in_order() -> None:
    segment = parse_request(sample("transactrx_odd_d0_b2_reversal_with_AM96_segment.ncpdp")).groups[0].segments[-1]
    assert segment.all("AD") == ["1D", "2D", "2D-2"]


def test_paid_response_amounts_from_overpunch() -> None:
    response = read_claim_response(parse_response(sample("edifabric_d0_b1_response_paid.ncpdp")))
    answer = response.transactions[0]
    assert answer.status.transaction_status == "P"
    assert answer.pricing is not None
    assert (answer.pricing.patient_pay, answer.pricing.total_paid, answer.pricing.copay) == (
        Decimal("10.00"),
        Decimal("70.70"),
        Decimal("8.00"),
    )
    assert response.date_of_service == date(2007, 9, 15)


def test_transactrx_paid_response_keeps_message_lines_and_approved_codes_in_order() -> None:
    response = read_claim_response(parse_response(sample("transactrx_d0_b1_response_paid.ncpdp")))
    status = response.transactions[0].status
    assert status.approved_message_codes == ("002", "004", "012")
    assert status.message_lines == (
        "RX LEVEL MESSAGE TEXT FIRST FQ FIELD",
        "RX LEVEL MESSAGE TEXT SECOND FQ FIELD",
    )
    assert response.message is not None and response.message.startswith("QS/1 POWERLINE")


def test_header_rejected_response_reject_codes_in_order() -> None:
    response = read_claim_response(parse_response(sample("edifabric_d0_b1_response_rejected_header_R.ncpdp")))
    assert response.header_response_status == "R"
    assert response.transactions[0].status.reject_codes == ("01", "04")


def test_dur_88_response_keeps_four_dur_sets() -> None:
    response = read_claim_response(parse_response(sample("edifabric_d0_b1_response_rejected_dur_88.ncpdp")))
    answer = response.transactions[0]
    assert answer.status.reject_codes == ("88",)
    assert answer.dur is not None
    assert [e.reason for e in answer.dur.entries] == ["LD", "MC", "ER", "TD"]
    assert answer.dur.entries[2].previous_fill_date == date(2007, 9, 1)


def test_captured_b2_and_b3_responses() -> None:
    captured = read_claim_response(parse_response(sample("edifabric_d0_b1_response_captured.ncpdp")))
    assert captured.transactions[0].status.transaction_status == "C"
    reversal = read_claim_response(parse_response(sample("transactrx_d0_b2_response_reversal_approved.ncpdp")))
    assert (reversal.transaction_code, reversal.transactions[0].status.transaction_status) == ("B2", "A")
    rebill = read_claim_response(parse_response(sample("transactrx_d0_b3_response_rejected_1S.ncpdp")))
    assert rebill.transactions[0].status.reject_codes == ("1S",)
    assert len(rebill.transactions[0].status.message_lines) == 3


def test_eligibility_request_has_no_transaction_group() -> None:
    request = read_claim_request(parse_request(sample("transactrx_d0_e1_eligibility_request.ncpdp")))
    assert (request.transaction_code, request.transactions) == ("E1", ())
    assert request.patient is not None and request.patient.date_of_birth == date(1942, 5, 1)


def test_readme_b1_without_claim_segment_parses_but_is_rejected_as_a_claim() -> None:
    # not named odd, but SOURCES.md calls it an incomplete claim: the framing is fine, the claim is not
    transmission = parse_request(sample("dzero_readme_serialized_b1_request_patient_segment_only.ncpdp"))
    assert transmission.header.bin == "999999"
    with pytest.raises(MessageContentError) as caught:
        read_claim_request(transmission)
    assert caught.value.problems[0].location == "AM07"


def test_odd_dzero_response_with_blank_header_status_is_rejected() -> None:
    # 501-F1 must be A or R; here it is blank (and 109-A9 says 1 while two groups follow)
    with pytest.raises(MessageContentError) as caught:
        parse_response(sample("dzero_odd_b1_response_two_groups_blank_header_status.ncpdp"))
    problem = caught.value.problems[0]
    assert problem.location == "F1"
    assert "offset 5" in problem.text


def test_odd_batch_with_corrupt_g1_detail_is_rejected() -> None:
    with pytest.raises(MessageContentError) as caught:
        parse_batch_file(sample("edifabric_odd_batch12_corrupt_g1_detail.ncpdp"))
    assert "offset 75" in caught.value.problems[0].text


def test_odd_batch_with_overlong_header_is_rejected() -> None:
    with pytest.raises(MessageContentError) as caught:
        parse_batch_file(sample("edifabric_odd_batch12_corrupt_header.ncpdp"))
    assert "batch header" in caught.value.problems[0].text
    assert caught.value.problems[0].location == "00"


def test_batch_file_is_not_a_bare_transmission() -> None:
    with pytest.raises(MessageContentError) as caught:
        parse_transmission(sample(BATCHES[1]))
    assert caught.value.problems[0].code == "R8"


def test_typed_rebuild_is_canonical_not_byte_identical() -> None:
    # the raw layer is lossless (see above); the typed layer writes canonical values, so a sender's
    # zero-padded overpunch ("0000601I") and padded ids come back as "601I" and trimmed text
    raw = sample("transactrx_d0_b1_request_4_transactions.ncpdp")
    typed = read_claim_request(parse_request(raw))
    rebuilt = build_claim_request(typed)
    assert rebuilt != raw
    assert b"\x1cD9601I" in rebuilt and b"\x1cD90000601I" in raw
    assert read_claim_request(parse_request(rebuilt)) == typed
