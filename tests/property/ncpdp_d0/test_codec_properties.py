"""Hypothesis properties of the D.0 codec: lossless round trips, overpunch, and 'only our error' on junk."""

from datetime import date
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.ncpdp.d0 import (
    RequestHeader,
    RequestTransmission,
    ResponseHeader,
    ResponseTransmission,
    Segment,
    TransactionGroup,
    build_transmission,
    decode_overpunch,
    encode_overpunch,
    parse_batch_file,
    parse_request,
    parse_response,
    parse_transmission,
    read_claim_request,
    read_claim_response,
)
from adapters.ncpdp.d0.model import TRANSACTION_CODES
from hub.errors import MessageContentError
from tests.support.corpus import CORPUS as SHARED_CORPUS

CORPUS = SHARED_CORPUS / "d0"
PRINTABLE = st.characters(min_codepoint=0x20, max_codepoint=0x7E)
values = st.text(PRINTABLE, max_size=12)
field_ids = st.text(PRINTABLE, min_size=2, max_size=2)
#: common ids so repeats (FB, DK, FQ, 7E sets) happen often, plus arbitrary ones
known_ids = st.sampled_from(["FB", "DK", "FQ", "7E", "E4", "E5", "E6", "C2", "D2", "D7", "E7", "F5", "F9", "AN"])
segments = st.builds(
    Segment,
    segment_id=st.one_of(st.sampled_from(["01", "04", "07", "08", "11", "21", "23", "96", "XX"]), field_ids),
    fields=st.lists(st.tuples(st.one_of(known_ids, field_ids), values), max_size=8).map(tuple),
)
groups = st.builds(TransactionGroup, segments=st.lists(segments, min_size=1, max_size=4).map(tuple))
padded = st.text(PRINTABLE, max_size=6).map(lambda s: s.rstrip(" "))
dates = st.dates(min_value=date(1000, 1, 1))


@st.composite
def request_transmissions(draw: st.DrawFn) -> RequestTransmission:
    count = draw(st.integers(1, 4))
    header = RequestHeader(
        bin=draw(padded),
        transaction_code=draw(st.sampled_from(sorted(TRANSACTION_CODES))),
        processor_control_number=draw(padded),
        transaction_count=count,
        service_provider_id_qualifier=draw(st.text(PRINTABLE, max_size=2).map(lambda s: s.rstrip(" "))),
        service_provider_id=draw(padded),
        date_of_service=draw(dates),
        software_vendor_id=draw(padded),
    )
    group_list = draw(st.one_of(st.just(()), st.lists(groups, min_size=count, max_size=count).map(tuple)))
    return RequestTransmission(
        header=header,
        segments=tuple(draw(st.lists(segments, max_size=3))),
        groups=group_list,
        end_of_text=draw(st.booleans()),
    )


@st.composite
def response_transmissions(draw: st.DrawFn) -> ResponseTransmission:
    count = draw(st.integers(1, 4))
    header = ResponseHeader(
        transaction_code=draw(st.sampled_from(sorted(TRANSACTION_CODES))),
        transaction_count=count,
        header_response_status=draw(st.sampled_from("AR")),
        service_provider_id=draw(padded),
        date_of_service=draw(dates),
    )
    return ResponseTransmission(
        header=header,
        segments=tuple(draw(st.lists(segments, max_size=3))),
        groups=tuple(draw(st.lists(groups, min_size=count, max_size=count))),
        end_of_text=draw(st.booleans()),
    )


@given(request_transmissions())
def test_request_build_then_parse_is_identity(transmission: RequestTransmission) -> None:
    raw = build_transmission(transmission)
    assert parse_request(raw) == transmission
    assert build_transmission(parse_request(raw)) == raw


@given(response_transmissions())
def test_response_build_then_parse_is_identity(transmission: ResponseTransmission) -> None:
    raw = build_transmission(transmission)
    assert parse_response(raw) == transmission
    assert parse_transmission(raw) == transmission


@given(st.decimals(min_value=-(10**9), max_value=10**9, places=2, allow_nan=False, allow_infinity=False))
def test_overpunch_round_trip(amount: Decimal) -> None:
    encoded = encode_overpunch(amount)
    assert decode_overpunch(encoded) == amount
    assert decode_overpunch(encoded).is_signed() == amount.is_signed()


def _only_our_error(raw: bytes) -> None:
    for parse in (parse_request, parse_response, parse_transmission, parse_batch_file):
        try:
            parsed = parse(raw)
        except MessageContentError:
            continue
        # the typed readers must also fail only with our error
        try:
            if isinstance(parsed, RequestTransmission):
                read_claim_request(parsed)
            elif isinstance(parsed, ResponseTransmission):
                read_claim_response(parsed)
        except MessageContentError:
            pass


@settings(max_examples=300)
@given(st.binary(max_size=200))
def test_arbitrary_bytes_raise_only_message_content_error(raw: bytes) -> None:
    _only_our_error(raw)


@settings(max_examples=300)
@given(
    st.sampled_from(sorted(p.name for p in CORPUS.iterdir())),
    st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 255)), min_size=1, max_size=4),
    st.integers(0, 10_000),
)
def test_mutated_corpus_files_raise_only_message_content_error(
    name: str, edits: list[tuple[int, int]], cut: int
) -> None:
    raw = bytearray((CORPUS / name).read_bytes())
    for position, byte in edits:
        raw[position % len(raw)] = byte
    _only_our_error(bytes(raw[: max(cut, 1)] if cut < len(raw) else raw))


@settings(max_examples=300)
@given(
    st.sampled_from(sorted(p.name for p in CORPUS.iterdir() if "batch" not in p.name)),
    st.integers(0, 10_000),
    st.sampled_from([b"\x1c", b"\x1d", b"\x1e", b"\x03", b"{", b"}", b"0", b" ", b"AM", b"\x1cFB"]),
)
def test_corpus_with_inserted_separators_raises_only_our_error(name: str, position: int, insert: bytes) -> None:
    raw = (CORPUS / name).read_bytes()
    at = position % (len(raw) + 1)
    _only_our_error(raw[:at] + insert + raw[at:])
