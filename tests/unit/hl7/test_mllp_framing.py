"""MLLP framing on hand-picked streams: the deviations the decoder documents."""

from __future__ import annotations

import pytest

from adapters.hl7.mllp_framing import END_BLOCK, START_BLOCK, FrameTooLarge, MllpDecoder, frame
from hub.errors import UnsupportedMessageError


def test_frame_wraps_payload() -> None:
    assert frame(b"MSH|x") == START_BLOCK + b"MSH|x" + END_BLOCK == b"\x0bMSH|x\x1c\r"


@pytest.mark.parametrize("payload", [b"a\x0bb", b"a\x1cb"])
def test_frame_refuses_payloads_that_would_break_framing(payload: bytes) -> None:
    with pytest.raises(ValueError, match="0x0B or 0x1C"):
        frame(payload)


def test_several_frames_in_one_read_and_one_frame_over_several_reads() -> None:
    decoder = MllpDecoder(100)
    assert decoder.feed(frame(b"one") + frame(b"two") + b"\x0bthr") == [b"one", b"two"]
    assert decoder.pending_bytes() == 3
    assert decoder.feed(b"ee") == []
    assert decoder.feed(b"\x1c") == [b"three"]
    assert decoder.feed(b"\r") == [] and decoder.pending_bytes() == 0


def test_junk_between_frames_and_lf_after_end_block_are_discarded() -> None:
    stream = b"noise\r\n" + frame(b"a") + b"\n\x1cjunk" + b"\x0bb\x1c\n"
    assert MllpDecoder(100).feed(stream) == [b"a", b"b"]


def test_start_block_inside_an_unfinished_frame_restarts_it() -> None:
    assert MllpDecoder(100).feed(b"\x0bhalf a mess\x0bwhole\x1c\r") == [b"whole"]


def test_frame_of_exactly_the_limit_passes_and_one_byte_more_is_refused_once() -> None:
    decoder = MllpDecoder(4)
    assert decoder.feed(frame(b"1234")) == [b"1234"]
    out = decoder.feed(b"\x0b12345")
    assert len(out) == 1 and isinstance(out[0], FrameTooLarge)
    assert isinstance(out[0], UnsupportedMessageError) and out[0].max_frame_bytes == 4
    assert decoder.feed(b"6789" * 100) == [] and decoder.pending_bytes() == 0
    assert decoder.feed(b"\x1c\r" + frame(b"ok")) == [b"ok"]


def test_limit_must_be_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        MllpDecoder(0)
