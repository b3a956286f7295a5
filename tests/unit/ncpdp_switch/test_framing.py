"""Switch framings over a real socket pair: whole frames however the bytes are split, bad frames refused."""

from __future__ import annotations

import socket
import struct

import pytest

from adapters.ncpdp.switch.framing import ConnectionClosed, Framing, frame, read_frame
from hub.errors import MessageContentError

PAYLOAD = b"999001D0B1RXHUBSIM  1011234567893    20260301RXHUB     \x1e\x1cAM04"


def test_stx_etx_carries_a_four_digit_length() -> None:
    assert frame(Framing.STX_ETX, b"ABC") == b"\x020003ABC\x03"


def test_length_prefix_is_four_bytes_big_endian() -> None:
    assert frame(Framing.LENGTH_PREFIX, b"ABC") == b"\x00\x00\x00\x03ABC"


@pytest.mark.parametrize("framing", list(Framing))
def test_frames_split_across_reads_and_back_to_back(framing: Framing) -> None:
    left, right = socket.socketpair()
    with left, right:
        wire = frame(framing, PAYLOAD) + frame(framing, b"second")
        for i in range(0, len(wire), 7):  # seven bytes at a time
            left.sendall(wire[i : i + 7])
        assert read_frame(right, framing) == PAYLOAD
        assert read_frame(right, framing) == b"second"


@pytest.mark.parametrize("framing", list(Framing))
def test_a_connection_closed_mid_frame(framing: Framing) -> None:
    left, right = socket.socketpair()
    with right:
        left.sendall(frame(framing, PAYLOAD)[:-3])
        left.close()
        with pytest.raises(ConnectionClosed):
            read_frame(right, framing)


@pytest.mark.parametrize("wire", [b"X0003ABC\x03", b"\x02abcdABC\x03", b"\x020003ABCD"])
def test_bad_stx_etx_frames_are_refused(wire: bytes) -> None:
    left, right = socket.socketpair()
    with left, right:
        left.sendall(wire)
        with pytest.raises(MessageContentError):
            read_frame(right, Framing.STX_ETX)


def test_oversized_frames_are_refused_both_ways() -> None:
    with pytest.raises(MessageContentError):
        frame(Framing.STX_ETX, b"x" * 10000)
    with pytest.raises(MessageContentError):
        frame(Framing.STX_ETX, b"AB\x03CD")
    left, right = socket.socketpair()
    with left, right:
        left.sendall(struct.pack(">I", 1 << 24))
        with pytest.raises(MessageContentError):
            read_frame(right, Framing.LENGTH_PREFIX)
