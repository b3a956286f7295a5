"""Two different messages racing under one control id: the first wins, the other gets AR 205 at once, and a
byte-identical resend of the winner gets its original answer, on one door and across two on one database."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path

import pytest

from hub.config import Settings
from hub.entrypoints.inprocess import running_hub
from hub.entrypoints.mllp_client import MllpClient
from tests.conftest import make_settings

SAMPLE = (Path(__file__).resolve().parents[2] / "samples" / "hl7" / "01_rde_o11_retail_amoxicillin.hl7").read_bytes()
PAIRS = 50


def _order(pair: int, variant: str) -> bytes:
    """Pair ``pair``'s message ``variant``: one control id per pair, a different order in each variant."""
    return SAMPLE.replace(b"RXH-DEMO-0001", f"RACE-{pair:03d}".encode()).replace(
        b"PLC1001", f"P{pair:03d}{variant}".encode()
    )


def _code(ack: bytes) -> str:
    return ack.split(b"\r")[1].split(b"|")[1].decode()


def _race(ports: tuple[int, int]) -> list[tuple[bytes, bytes]]:
    """Every pair's two messages sent at the same moment on two connections (to the two ports given)."""
    answers: list[tuple[bytes, bytes]] = []
    with (
        MllpClient("127.0.0.1", ports[0]) as one,
        MllpClient("127.0.0.1", ports[1]) as two,
        ThreadPoolExecutor(2) as pool,
    ):
        for pair in range(PAIRS):
            start = threading.Barrier(2)

            def send(client: MllpClient, message: bytes, start: threading.Barrier = start) -> bytes:
                start.wait()
                return client.send(message)

            first = pool.submit(send, one, _order(pair, "A"))
            second = pool.submit(send, two, _order(pair, "B"))
            answers.append((first.result(), second.result()))
    return answers


def _check(answers: list[tuple[bytes, bytes]], ports: tuple[int, int]) -> None:
    winners = []
    for pair, (a, b) in enumerate(answers):
        codes = sorted([_code(a), _code(b)])
        assert codes == ["AA", "AR"], (pair, a, b)
        loser = a if _code(a) == "AR" else b
        assert b"205" in loser, loser
        winners.append(("A", a) if _code(a) == "AA" else ("B", b))
    with MllpClient("127.0.0.1", ports[1]) as again:  # later resends, to the other door when there are two
        for pair, (variant, answer) in enumerate(winners):
            assert again.send(_order(pair, variant)) == answer  # the original answer, byte for byte
            other = again.send(_order(pair, "B" if variant == "A" else "A"))
            assert _code(other) == "AR" and b"205" in other


@pytest.fixture
def door_settings(amqp_url: str, database_url: str) -> Settings:
    return make_settings(amqp_url, database_url)


def test_one_door_takes_the_first_of_two_racing_messages(door_settings: Settings) -> None:
    with running_hub(door_settings, with_workers=False) as hub:
        ports = (hub.mllp_port, hub.mllp_port)
        _check(_race(ports), ports)


def test_two_doors_on_one_database_take_only_one(amqp_url: str, postgres_url: str) -> None:
    settings = make_settings(amqp_url, postgres_url)
    with ExitStack() as stack:
        hubs = [stack.enter_context(running_hub(settings, with_workers=False)) for _ in range(2)]
        ports = (hubs[0].mllp_port, hubs[1].mllp_port)
        _check(_race(ports), ports)


def test_a_claim_is_taken_once_and_shows_who_holds_it(database_url: str) -> None:
    from hub.persistence.database import create_schema, make_engine
    from hub.persistence.inbound import InboundStore
    from hub.service.inbound_entry import InboundEntry

    engine = make_engine(database_url)
    create_schema(engine)
    store = InboundStore(engine)
    key = {"door": "hl7", "sender": "EHR|GENHOSP", "control_id": "C-1", "message_type": "RDE^O11"}
    assert store.claim(InboundEntry(**key, raw=b"first", record_id="00000000-0000-0000-0000-000000000001")) is None
    holder = store.claim(InboundEntry(**key, raw=b"second", record_id="00000000-0000-0000-0000-000000000002"))
    assert holder is not None and (holder.raw, holder.answer) == (b"first", None)
    store.release("00000000-0000-0000-0000-000000000001")
    assert store.claim(InboundEntry(**key, raw=b"second", record_id="00000000-0000-0000-0000-000000000002")) is None
    engine.dispose()
