"""The secondary payer's harder answers, end to end with real workers and the payer simulator: a secondary claim
the payer did not answer is reversed and then resubmitted to the same payer with the same AM05, paid once; and
a primary that does not cover the product passes the claim to the secondary with 308-C8 = 3 and its reject code
in AM05, which pays it, and the fill goes on to will-call."""

from __future__ import annotations

import threading
from decimal import Decimal

from adapters.ncpdp.d0.claim_request import read_claim_request
from adapters.ncpdp.d0.claim_response import build_claim_response
from adapters.ncpdp.d0.parser import parse_request
from adapters.ncpdp.payer.adjudicator import Adjudicator
from adapters.ncpdp.payer.config import PayerConfig, load_payer_config
from adapters.ncpdp.payer_link.simulator import SimAnswer
from hub.config import Settings
from tests.conftest import make_settings
from tests.e2e.test_claim_fields import RecordingPayer
from tests.e2e.test_second_payer import PRIMARY, SECONDARY, _ledger, _order
from tests.support.pharmacy import Pharmacy, pharmacy
from tests.support.waiting import eventually

PRIMARY_BIN, SECONDARY_BIN = "999001", "999003"
ATORVASTATIN = "00071015523"


def _settings(amqp_url: str, sqlite_url: str) -> Settings:
    return make_settings(amqp_url, sqlite_url, default_bin=PRIMARY_BIN, payer_timeout_ms=1500)


class Payer(RecordingPayer):
    """The simulated payer keeping the raw bytes of every claim too, and counting what it holds paid per BIN."""

    def __init__(self, config: PayerConfig) -> None:
        super().__init__(config)
        self.raw: list[bytes] = []
        self._lock = threading.Lock()

    def answer(self, body: bytes) -> SimAnswer:
        with self._lock:
            self.raw.append(body)
            return super().answer(body)

    def held_paid(self, bin_: str) -> int:
        """Claims of ``bin_`` the payer holds paid and not reversed."""
        return sum(not c.reversed and c.key.bin == bin_ for c in self._history._paid.values())


class LosesSecondarysFirstAnswer(Payer):
    """Pays the secondary's first claim but loses the answer on the way back: the hub cannot know it was paid."""

    def __init__(self, config: PayerConfig) -> None:
        super().__init__(config)
        self.lost = False

    def answer(self, body: bytes) -> SimAnswer:
        decided = super().answer(body)
        request = self.received[-1]
        if request.transaction_code == "B1" and request.bin == SECONDARY_BIN and not self.lost:
            self.lost = True
            return SimAnswer(None, decided.summary + "; answer lost")
        return decided


class PrimaryExcludesTheProduct(Payer):
    """The primary plan does not cover atorvastatin (reject 70); the secondary plan does."""

    def __init__(self, config: PayerConfig) -> None:
        super().__init__(config)
        excluded = {**config.drugs, ATORVASTATIN: config.drugs[ATORVASTATIN].model_copy(update={"covered": False})}
        self._primary = Adjudicator(config.model_copy(update={"drugs": excluded}))

    def answer(self, body: bytes) -> SimAnswer:
        request = read_claim_request(parse_request(body))
        if request.bin != PRIMARY_BIN:
            return super().answer(body)
        with self._lock:
            self.raw.append(body)
            self.received.append(request)
            return SimAnswer(build_claim_response(self._primary.adjudicate(request, self._history)), "primary: 70")


def _segments(raw: bytes) -> dict[str, list[tuple[str, str]]]:
    """The transmission's segments by 111-AM id, each as its (field id, value) pairs, read straight off the bytes."""
    found: dict[str, list[tuple[str, str]]] = {}
    for chunk in raw.decode("ascii").replace("\x1d", "\x1e").split("\x1e")[1:]:
        fields = [f for f in chunk.split("\x1c") if f]
        if fields and fields[0].startswith("AM"):
            found[fields[0][2:]] = [(f[:2], f[2:]) for f in fields[1:]]
    return found


def _to_will_call(ph: Pharmacy, pid: str) -> None:
    rph = ph.client("pharmacist")
    assert rph.post(f"/api/prescriptions/{pid}/data-verification", json={"approve": True}).status_code == 202
    ph.wait_state(pid, "product_verification")
    assert rph.post(f"/api/prescriptions/{pid}/product-verification", json={"approve": True}).status_code == 202


def _ledger_settled(ph: Pharmacy, pid: str, rows: int) -> list[tuple[int, str, str, str | None]] | None:
    found = _ledger(ph, pid)
    return found if len(found) >= rows and all(status is not None for *_, status in found) else None


def test_an_unanswered_secondary_is_reversed_then_resubmitted_with_its_am05(amqp_url: str, sqlite_url: str) -> None:
    """Fails on the code before this change: the secondary's claim is attempt 2, and only an attempt 1 was
    resubmitted after its reversal, so the fill stayed in the exception queue (rejected TO)."""
    settings = _settings(amqp_url, sqlite_url)
    payer = LosesSecondarysFirstAnswer(load_payer_config(settings.payer_sim_config))
    with pharmacy(settings, simulator=payer) as ph:
        pid = _order(ph, "COB-TO-1", PRIMARY, SECONDARY)
        done = ph.wait_state(pid, "data_verification")
        ledger = eventually(lambda: _ledger_settled(ph, pid, 4), "the ledger's four transmissions answered")
    assert payer.lost
    assert ledger == [
        (1, "B1", "billing", "P"),
        (2, "B1", "billing", "timeout"),
        (2, "B2", "unknown-status", "A"),  # the payer had paid it: reversed before anything else is sent
        (3, "B1", "billing", "P"),
    ]
    fill = done.document["fills"][0]
    [primary] = fill["earlier_claims"]
    secondary = fill["claim"]
    assert (primary["payer"], primary["attempt"], primary["status"]) == (1, 1, "paid")
    assert (secondary["payer"], secondary["attempt"], secondary["bin"], secondary["status"]) == (
        2,
        3,
        SECONDARY_BIN,
        "paid",
    )
    assert [(r.transaction_code, r.bin) for r in payer.received] == [
        ("B1", PRIMARY_BIN),
        ("B1", SECONDARY_BIN),
        ("B2", SECONDARY_BIN),
        ("B1", SECONDARY_BIN),
    ]
    first, again = payer.received[1], payer.received[3]
    assert again.transactions[0].cob == first.transactions[0].cob is not None, "the same AM05 both times"
    assert again.transactions[0].claim.other_coverage_code == "2"
    assert (payer.held_paid(PRIMARY_BIN), payer.held_paid(SECONDARY_BIN)) == (1, 1), "each payer paid once"


def test_primary_not_covering_the_product_passes_it_to_the_secondary_which_pays(amqp_url: str, sqlite_url: str) -> None:
    settings = _settings(amqp_url, sqlite_url)
    payer = PrimaryExcludesTheProduct(load_payer_config(settings.payer_sim_config))
    with pharmacy(settings, simulator=payer) as ph:
        stocked = ph.client("technician").post(
            "/api/inventory", json={"ndc": ATORVASTATIN, "lot": "A1", "expiry": "2030-01-01", "quantity": "200"}
        )
        assert stocked.status_code == 202
        pid = _order(ph, "COB-70-1", PRIMARY, SECONDARY)
        paid = ph.wait_state(pid, "data_verification")
        _to_will_call(ph, pid)
        ready = ph.wait_state(pid, "ready")
        ledger = _ledger(ph, pid)
    assert ledger == [(1, "B1", "billing", "R"), (2, "B1", "billing", "P")]
    fill = paid.document["fills"][0]
    [primary] = fill["earlier_claims"]
    assert (primary["payer"], primary["status"], primary["reject_codes"]) == (1, "rejected", ["70"])
    assert (fill["claim"]["payer"], fill["claim"]["bin"], fill["claim"]["status"]) == (2, SECONDARY_BIN, "paid")
    assert Decimal(ready.document["fills"][0]["claim"]["patient_pay"]) == Decimal("0")
    to_primary, to_secondary = payer.raw
    assert "05" not in _segments(to_primary), "no AM05 on the claim to the primary"
    header = to_secondary[:56].decode("ascii")
    assert (header[:6], header[8:10]) == (SECONDARY_BIN, "B1")  # 101-A1 BIN, 103-A3 transaction code
    segments = _segments(to_secondary)
    assert dict(segments["07"])["C8"] == "3", "308-C8: other coverage billed, claim not covered"
    answered = payer.received[0].date_of_service.strftime("%Y%m%d")
    assert segments["05"] == [
        ("4C", "1"),  # 337-4C one other payer
        ("5C", "01"),  # 338-5C the primary
        ("6C", "03"),  # 339-6C identified by BIN
        ("7C", PRIMARY_BIN),  # 340-7C
        ("E8", answered),  # 443-E8 the day the primary answered
        ("5E", "1"),  # 471-5E one reject code
        ("6E", "70"),  # 472-6E the primary's reject
    ], "no 341-HB / 342-HC / 431-DV: the primary paid nothing"
