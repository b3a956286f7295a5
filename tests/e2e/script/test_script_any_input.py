"""Whatever is posted to /script, the door answers in SCRIPT and never fails with a 5xx (broker up)."""

from __future__ import annotations

from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from hub.config import Settings
from tests.e2e.script import messages
from tests.e2e.script.support import Answer, script_feed

VALID = messages.new_rx("ANY-1", "ORD-ANY")


@st.composite
def damaged_messages(draw: st.DrawFn) -> bytes:
    """A valid NewRx with a slice replaced by arbitrary bytes: close enough to reach the mappers."""
    start = draw(st.integers(0, len(VALID)))
    end = draw(st.integers(start, min(len(VALID), start + 40)))
    return VALID[:start] + draw(st.binary(max_size=40)) + VALID[end:]


def test_any_body_gets_a_script_answer_and_never_a_server_error(settings: Settings) -> None:
    with script_feed(settings) as feed:

        @hypothesis_settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
        @given(st.one_of(st.binary(max_size=300), damaged_messages()))
        def answers(body: bytes) -> None:
            response = feed.post(body)
            assert response.status_code in (200, 204), (response.status_code, body)
            if response.status_code == 200:
                assert Answer.of(response.content).kind in ("Status", "Error")

        answers()
