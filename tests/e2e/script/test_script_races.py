"""Two different NewRx racing under one MessageID: the first wins (Status 010), the other is refused at once
(Error 900), and a resend of the winner gets its original answer; on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import httpx

from tests.conftest import make_settings
from tests.e2e.script import messages
from tests.e2e.script.support import Answer, script_feed

PAIRS = 20


def test_of_two_racing_messages_under_one_message_id_one_is_taken(amqp_url: str, database_url: str) -> None:
    settings = make_settings(amqp_url, database_url, default_bin="999001")
    with (
        script_feed(settings) as feed,
        ThreadPoolExecutor(2) as pool,
        httpx.Client(base_url=str(feed.http.base_url), headers=dict(feed.http.headers), timeout=20) as other,
    ):
        answers = []
        for pair in range(PAIRS):
            start = threading.Barrier(2)

            def post(client: httpx.Client, body: bytes, start: threading.Barrier = start) -> httpx.Response:
                start.wait()
                return client.post("/script", content=body, headers={"Content-Type": "application/xml"})

            first = pool.submit(post, feed.http, messages.new_rx(f"RACE-{pair}", f"ORD-{pair}-A"))
            second = pool.submit(post, other, messages.new_rx(f"RACE-{pair}", f"ORD-{pair}-B"))
            answers.append((first.result(), second.result()))
        for pair, (a, b) in enumerate(answers):
            codes = sorted(str(Answer.of(r.content).code) for r in (a, b))
            assert codes == ["010", "900"], (pair, a.text, b.text)
            won, order = (a, "A") if Answer.of(a.content).code == "010" else (b, "B")
            again = feed.post(messages.new_rx(f"RACE-{pair}", f"ORD-{pair}-{order}"))
            assert again.content == won.content  # the original answer, byte for byte
