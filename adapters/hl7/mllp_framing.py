"""MLLP framing without a transport: wrap a payload, and cut a byte stream back into payloads.

Frame (HL7 MLLP Release 1, standards.md 1.5): ``<SB=0x0B> payload <EB=0x1C><CR=0x0D>``.  The decoder is a
state machine fed whatever one socket read returned, so one read may hold half a frame or several.

Choices where senders deviate:

* a frame ends at the FS byte; the CR after it is expected and skipped but not required, and any other
  bytes up to the next SB are discarded (some senders omit the CR or add a LF);
* bytes before a start block are discarded;
* an SB inside an unfinished frame restarts the frame (the sender gave up on the first one);
* a payload larger than ``max_frame_bytes`` is reported once as a :class:`FrameTooLarge` marker and its bytes
  are discarded up to the next SB, so the decoder never holds more than ``max_frame_bytes``.
"""

from __future__ import annotations

from enum import Enum, auto

from hub.errors import Problem, UnsupportedMessageError

START_BLOCK = b"\x0b"
END_BLOCK = b"\x1c\r"
_SB = 0x0B
_FS = 0x1C
_CR = 0x0D


class FrameTooLarge(UnsupportedMessageError):
    """A frame outgrew the size limit: rejected for its size, not its content (HL7 AR, 0357 code 207).

    It is an UnsupportedMessageError because the hub refuses it whatever it says; its bytes are discarded, so
    no control id is known and the listener can only log it or close the connection.
    """

    def __init__(self, max_frame_bytes: int) -> None:
        text = f"MLLP frame larger than {max_frame_bytes} bytes"
        super().__init__(text, [Problem(code="207", text=text)])
        self.max_frame_bytes = max_frame_bytes


def frame(payload: bytes) -> bytes:
    """Wrap one HL7 message for the wire."""
    if _SB in payload or _FS in payload:
        raise ValueError("an MLLP payload must not contain 0x0B or 0x1C")
    return START_BLOCK + payload + END_BLOCK


class _State(Enum):
    SEEK = auto()
    IN_FRAME = auto()
    AFTER_END = auto()


class MllpDecoder:
    """Cuts an MLLP byte stream into payloads, keeping at most ``max_frame_bytes`` buffered."""

    def __init__(self, max_frame_bytes: int) -> None:
        if max_frame_bytes < 1:
            raise ValueError("max_frame_bytes must be positive")
        self._max = max_frame_bytes
        self._buf = bytearray()
        self._state = _State.SEEK

    def mid_frame(self) -> bool:
        """Whether a frame has started and not ended (its deadline runs)."""
        return self._state is _State.IN_FRAME

    def pending_bytes(self) -> int:
        """Bytes of an unfinished frame held between reads."""
        return len(self._buf)

    def feed(self, data: bytes) -> list[bytes | FrameTooLarge]:
        """Consume one read; return every payload completed by it, in order."""
        out: list[bytes | FrameTooLarge] = []
        pos = 0
        while pos < len(data):
            if self._state is _State.IN_FRAME:
                pos = self._in_frame(data, pos, out)
            elif self._state is _State.AFTER_END:
                pos = pos + 1 if data[pos] == _CR else pos
                self._state = _State.SEEK
            else:
                pos = self._seek(data, pos)
        return out

    def _seek(self, data: bytes, pos: int) -> int:
        start = data.find(START_BLOCK, pos)
        if start < 0:
            return len(data)
        self._buf.clear()
        self._state = _State.IN_FRAME
        return start + 1

    def _in_frame(self, data: bytes, pos: int, out: list[bytes | FrameTooLarge]) -> int:
        end = data.find(_FS, pos)
        restart = data.find(START_BLOCK, pos, end if end >= 0 else len(data))
        if restart >= 0:
            self._buf.clear()
            return restart + 1
        stop = end if end >= 0 else len(data)
        if len(self._buf) + (stop - pos) > self._max:
            out.append(FrameTooLarge(self._max))
            self._buf.clear()
            self._state = _State.SEEK
            return stop
        self._buf += data[pos:stop]
        if end >= 0:
            out.append(bytes(self._buf))
            self._buf.clear()
            self._state = _State.AFTER_END
            return end + 1
        return stop
