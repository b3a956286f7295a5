"""Enhanced acknowledgement mode (MSH-15/16): a commit ACK (CA) once stored, honouring AL/NE/ER/SU."""

from __future__ import annotations

from pathlib import Path

import pytest

from hub.config import Settings
from hub.entrypoints.inprocess import running_hub
from hub.entrypoints.mllp_client import MllpClient

SAMPLE = (Path(__file__).resolve().parents[2] / "samples" / "hl7" / "01_rde_o11_retail_amoxicillin.hl7").read_bytes()


def _with_ack_types(msh15: str, msh16: str, control: str, *, break_rxe: bool = False) -> bytes:
    lines = SAMPLE.split(b"\r")
    fields = lines[0].split(b"|")
    fields += [b""] * (17 - len(fields))
    fields[9], fields[14], fields[15] = control.encode(), msh15.encode(), msh16.encode()
    lines[0] = b"|".join(fields)
    if break_rxe:
        lines = [line.replace(b"00093005801^Amoxicillin 500 MG Oral Capsule^NDC", b"") for line in lines]
    return b"\r".join(lines)


@pytest.mark.parametrize(
    ("msh15", "bad", "expected"),
    [
        ("AL", False, "CA"),
        ("AL", True, "CE"),
        ("SU", False, "CA"),
        ("ER", True, "CE"),
        ("ER", False, None),
        ("NE", False, None),
        ("SU", True, None),
    ],
)
def test_commit_acks_follow_msh15(settings: Settings, msh15: str, bad: bool, expected: str | None) -> None:
    with running_hub(settings, steps=["intake"]) as hub, MllpClient("127.0.0.1", hub.mllp_port, timeout_s=3) as c:
        c.sock.sendall(b"\x0b" + _with_ack_types(msh15, "AL", f"ENH-{msh15}", break_rxe=bad) + b"\x1c\r")
        try:
            ack = c.read_frame()
        except TimeoutError:
            ack = None
    if expected is None:
        assert ack is None
    else:
        assert ack is not None and f"MSA|{expected}|ENH-{msh15}".encode() in ack
