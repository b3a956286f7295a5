"""MLLP decoder properties: round trip through arbitrary read boundaries, junk, bounded memory."""

from __future__ import annotations

import itertools

from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.hl7.mllp_framing import FrameTooLarge, MllpDecoder, frame

payloads = st.binary(max_size=300).map(lambda b: b.replace(b"\x0b", b"").replace(b"\x1c", b""))
junk = st.binary(max_size=40).map(lambda b: b.replace(b"\x0b", b""))


def split_at(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts})
    bounds = [0, *points, len(data)]
    return [data[a:b] for a, b in itertools.pairwise(bounds)]


def feed_all(decoder: MllpDecoder, chunks: list[bytes]) -> list[bytes | FrameTooLarge]:
    out: list[bytes | FrameTooLarge] = []
    for chunk in chunks:
        out.extend(decoder.feed(chunk))
    return out


@given(st.lists(payloads, max_size=6), junk, st.lists(st.integers(min_value=0), max_size=20))
def test_frames_survive_any_read_boundaries_and_leading_junk(
    messages: list[bytes], leading: bytes, cuts: list[int]
) -> None:
    stream = leading + b"".join(frame(m) for m in messages)
    decoder = MllpDecoder(max_frame_bytes=300)
    assert feed_all(decoder, split_at(stream, cuts)) == messages
    assert decoder.pending_bytes() == 0


@given(st.lists(payloads, min_size=1, max_size=4))
def test_missing_cr_after_end_block_is_tolerated(messages: list[bytes]) -> None:
    stream = b"".join(b"\x0b" + m + b"\x1c" for m in messages)
    assert MllpDecoder(max_frame_bytes=300).feed(stream) == messages


@settings(max_examples=200)
@given(st.lists(st.binary(max_size=200), max_size=30), st.integers(min_value=1, max_value=100))
def test_buffer_never_exceeds_the_limit_on_arbitrary_streams(chunks: list[bytes], limit: int) -> None:
    decoder = MllpDecoder(max_frame_bytes=limit)
    for chunk in chunks:
        for item in decoder.feed(chunk):
            assert isinstance(item, FrameTooLarge) or len(item) <= limit
        assert decoder.pending_bytes() <= limit


@given(payloads, st.integers(min_value=1, max_value=50), st.lists(st.integers(min_value=0), max_size=10))
def test_oversize_frame_is_reported_once_and_the_next_frame_still_arrives(
    after: bytes, limit: int, cuts: list[int]
) -> None:
    big = b"x" * (limit + 1)
    stream = frame(big) + frame(after[:limit])
    out = feed_all(MllpDecoder(max_frame_bytes=limit), split_at(stream, cuts))
    assert len(out) == 2 and isinstance(out[0], FrameTooLarge) and out[1] == after[:limit]
    assert out[0].problems[0].code == "207"
