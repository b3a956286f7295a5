"""HL7 content abuse over a live MLLP connection: truncated segments, wrong encoding characters, bad dates,
wrong versions, arbitrary field values.  Every message gets an ACK with a standard MSA-1, and the same
connection serves the next message."""

from __future__ import annotations

import itertools

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hub.entrypoints.mllp_client import MllpClient
from tests.chaos.orders import hl7_order
from tests.fuzz.conftest import TRIED, FuzzHub

FUZZ = settings(
    max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
ANSWERS = {b"AA", b"AE", b"AR", b"CA", b"CE", b"CR"}
_ids = itertools.count()
#: MSH fields we may damage; MSH-15/16 are left alone because "NE" legitimately asks for no ACK at all
MSH_FIELDS = (1, 6, 8, 9, 10, 11)
text = st.text(st.characters(codec="utf-8", exclude_characters="\x0b\x1c"), max_size=40)


def _segments(control_id: str) -> list[str]:
    return hl7_order(control_id, f"FZC{control_id}").decode().strip("\r").split("\r")


def _mutate(segments: list[str], kind: str, data: st.DataObject) -> list[str]:
    index = data.draw(st.integers(0, len(segments) - 1))
    fields = segments[index].split("|")
    if kind == "truncate":
        segments[index] = segments[index][: data.draw(st.integers(0, len(segments[index])))]
        return segments[: data.draw(st.integers(index + 1, len(segments)))]
    if kind == "encoding":
        head = segments[0]
        segments[0] = head[:3] + data.draw(st.text(min_size=1, max_size=5)) + head[8:]
        return segments
    if kind == "date":
        bad = data.draw(
            st.sampled_from(["20261399", "2026-11-26", "0", "99999999999999", "20260230", "abc", "2026112625", ""])
            | text
        )
        where = data.draw(st.sampled_from([(0, 6), (1, 7), (3, 9), (5, 31)]))
        parts = segments[where[0]].split("|")
        parts[where[1]] = bad
        segments[where[0]] = "|".join(parts)
        return segments
    if kind == "version":
        msh = segments[0].split("|")
        msh[11] = data.draw(st.sampled_from(["2.1", "2.2", "2.9", "3.0", "", "2.5.1^x", "v2"]) | text)
        segments[0] = "|".join(msh)
        return segments
    field = data.draw(st.sampled_from(MSH_FIELDS) if index == 0 else st.integers(1, max(len(fields) - 1, 1)))
    while len(fields) <= field:
        fields.append("")
    fields[field] = data.draw(text)
    segments[index] = "|".join(fields)
    return segments


def _msa(ack: bytes) -> tuple[bytes, bytes]:
    for segment in ack.split(b"\r"):
        if segment.startswith(b"MSA"):
            parts = segment.split(segment[3:4])
            return parts[1], parts[2] if len(parts) > 2 else b""
    return b"", b""


def test_damaged_orders_get_a_standard_ack_and_the_connection_goes_on(fuzz_hub: FuzzHub) -> None:
    before = fuzz_hub.rss_kb()
    with MllpClient("127.0.0.1", fuzz_hub.env.mllp_port, timeout_s=20) as client:

        @FUZZ
        @given(kind=st.sampled_from(["truncate", "encoding", "date", "version", "field"]), data=st.data())
        def send(kind: str, data: st.DataObject) -> None:
            TRIED["hl7 content"] += 1
            # draws must not depend on the counter: mutate a fixed-length placeholder, then fill it in
            control_id = f"FZH{next(_ids):09d}"
            message = "\r".join(_mutate(_segments("FZH000000000"), kind, data)) + "\r"
            message = message.replace("FZH000000000", control_id)
            payload = message.encode().replace(b"\x0b", b"").replace(b"\x1c", b"")
            code, _ = _msa(client.send(payload))
            assert code in ANSWERS, f"{kind}: no standard ACK for {payload[:300]!r}"

        send()
        follow = f"FZHNEXT{next(_ids)}"
        assert _msa(client.send(hl7_order(follow, f"FZC{follow}"))) == (b"AA", follow.encode())
    fuzz_hub.assert_serving()
    assert fuzz_hub.rss_kb() - before < 60_000
