"""The HL7 load generator: blocking MLLP senders on threads, each waiting for its ACK like an EHR does.

Every message is the sample order with a fresh MSH-10, ORC-2 placer number and patient (PID-3 MRN and
PID-5 family name: intake matches patients on either), so dedupe never
hides a message, every ACK can be matched to exactly one stored prescription, and no patient collects
thousands of orders (intake reads the patient's whole profile for DUR, so one shared patient would make
each order slower than the last).
"""

from __future__ import annotations

from pathlib import Path

from bench.senders import LoadPlan, LoadResult, run_senders
from hub.entrypoints.mllp_client import MllpClient

__all__ = ["SAMPLE", "LoadPlan", "LoadResult", "MllpDoor", "OrderTemplate", "ack_accepts", "run_load"]

SAMPLE = Path(__file__).resolve().parents[1] / "samples" / "hl7" / "01_rde_o11_retail_amoxicillin.hl7"
_CID, _PLACER, _MRN, _NAME = "\x00CID\x00", "\x00PLACER\x00", "\x00MRN\x00", "\x00NAME\x00"


class OrderTemplate:
    """A one-order message whose MSH-10, PID-3.1, PID-5.1 and ORC-2.1 are filled in per message."""

    def __init__(self, raw: bytes) -> None:
        text = raw.decode("utf-8").replace("\r\n", "\r").replace("\n", "\r").strip("\r")
        segments = [self._mark(s) for s in text.split("\r")]
        head, rest = "\r".join(segments).split(_CID)
        before_mrn, rest = rest.split(_MRN)
        before_name, rest = rest.split(_NAME)
        before_placer, tail = rest.split(_PLACER)
        self._parts = tuple(p.encode() for p in (head, before_mrn, before_name, before_placer, tail + "\r"))

    @staticmethod
    def _mark(segment: str) -> str:
        fields = segment.split("|")
        if fields[0] == "MSH":
            fields[9] = _CID
        elif fields[0] == "PID":
            fields[3] = "^".join([_MRN, *fields[3].split("~")[0].split("^")[1:]])
            fields[5] = "^".join([_NAME, *fields[5].split("~")[0].split("^")[1:]])
        elif fields[0] == "ORC":
            fields[2] = "^".join([_PLACER, *fields[2].split("^")[1:]])
        return "|".join(fields)

    def render(self, control_id: str, placer: str) -> bytes:
        """The message bytes for one control id and placer order number (the patient is the placer's twin)."""
        head, before_mrn, before_name, before_placer, tail = self._parts
        key = placer.encode()
        return b"".join(
            (head, control_id.encode(), before_mrn, b"M", key, before_name, b"Pt", key, before_placer, key, tail)
        )


def ack_accepts(ack: bytes, control_id: str) -> bool:
    """True for an MSA-1 of AA (or CA) whose MSA-2 echoes our MSH-10."""
    for segment in ack.replace(b"\n", b"\r").split(b"\r"):
        if segment.startswith(b"MSA"):
            fields = segment.split(segment[3:4])
            return len(fields) > 2 and fields[1] in (b"AA", b"CA") and fields[2] == control_id.encode()
    return False


class MllpDoor:
    """One blocking MLLP connection; an order is accepted when its ACK says AA (or CA) for its MSH-10."""

    def __init__(self, template: OrderTemplate, host: str, port: int) -> None:
        self._template = template
        self._client = MllpClient(host, port, timeout_s=30)

    def send(self, control_id: str, placer: str) -> str | None:
        """Send one order and wait for its ACK."""
        ack = self._client.send(self._template.render(control_id, placer))
        return None if ack_accepts(ack, control_id) else repr(ack[:200])

    def close(self) -> None:
        """Close the connection."""
        self._client.close()


def run_load(plan: LoadPlan, template: OrderTemplate) -> LoadResult:
    """HL7 senders over MLLP, one connection each (see ``senders.run_senders``)."""
    return run_senders(plan, lambda _index, port: MllpDoor(template, plan.host, port))
