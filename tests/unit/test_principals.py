"""Who a message is from: the principal each door derives, and the claims a feed may make."""

from __future__ import annotations

import pytest

from hub.errors import SenderRefused
from hub.security.principals import (
    FeedBindings,
    Peer,
    dedupe_sender,
    feed_of,
    split_sender,
    user_principal,
)

BINDINGS = FeedBindings(
    {
        ("cert", "north-cert"): "north",
        ("hl7", "EHR-N|NORTH"): "north",
        ("hl7", "EHR-S|SOUTH"): "south",
        ("cert", "lab-cert"): "lab",
        ("script", "D:111"): "north",
    }
)
LOOPBACK = Peer(address="127.0.0.1")
REMOTE = Peer(address="10.1.2.3")


def test_a_certificate_names_its_feed_and_the_feed_may_claim_its_own_senders() -> None:
    assert BINDINGS.mllp_principal(Peer("north-cert", "10.1.2.3"), "EHR-N|NORTH") == "feed:north"


def test_a_certificate_may_not_claim_another_feeds_sender() -> None:
    with pytest.raises(SenderRefused, match="bound to another feed") as refused:
        BINDINGS.mllp_principal(Peer("north-cert", "10.1.2.3"), "EHR-S|SOUTH")
    assert refused.value.problems[0].location == "MSH^1^3"


def test_a_feed_with_senders_may_claim_only_those() -> None:
    with pytest.raises(SenderRefused, match="not one of feed north's senders"):
        BINDINGS.mllp_principal(Peer("north-cert", "10.1.2.3"), "EHR-X|ELSEWHERE")


def test_a_feed_without_senders_may_claim_any_unbound_one() -> None:
    assert BINDINGS.mllp_principal(Peer("lab-cert"), "LAB|ANY") == "feed:lab"
    with pytest.raises(SenderRefused):
        BINDINGS.mllp_principal(Peer("lab-cert"), "EHR-N|NORTH")


def test_an_allowed_certificate_bound_to_no_feed_is_its_own_principal() -> None:
    assert BINDINGS.mllp_principal(Peer("stranger", "10.1.2.3"), "ANY|ONE") == "cert:stranger"
    with pytest.raises(SenderRefused):
        BINDINGS.mllp_principal(Peer("stranger", "10.1.2.3"), "EHR-S|SOUTH")


def test_a_plain_connection_is_the_feed_its_bound_sender_names() -> None:
    assert BINDINGS.mllp_principal(LOOPBACK, "EHR-S|SOUTH") == "feed:south"
    assert BINDINGS.mllp_principal(REMOTE, "EHR-S|SOUTH") == "feed:south"  # behind a TLS-terminating proxy


def test_an_unbound_sender_is_taken_from_loopback_only() -> None:
    assert BINDINGS.mllp_principal(LOOPBACK, "DEV|LAPTOP") == "hl7:DEV|LAPTOP"
    assert BINDINGS.mllp_principal(Peer(address="::1"), "DEV|LAPTOP") == "hl7:DEV|LAPTOP"
    with pytest.raises(SenderRefused, match="bound to no feed"):
        BINDINGS.mllp_principal(REMOTE, "DEV|LAPTOP")
    with pytest.raises(SenderRefused):
        BINDINGS.mllp_principal(Peer(), "DEV|LAPTOP")


def test_script_from_claims() -> None:
    BINDINGS.check_claim("feed:north", "script", "D:111", "Message/Header/From")
    BINDINGS.check_claim("feed:south", "script", "D:222", "Message/Header/From")  # south lists no From
    with pytest.raises(SenderRefused):
        BINDINGS.check_claim("feed:south", "script", "D:111", "Message/Header/From")
    with pytest.raises(SenderRefused):
        BINDINGS.check_claim("feed:north", "script", "D:999", "Message/Header/From")
    with pytest.raises(SenderRefused):  # staff trying the door may not speak for a feed either
        BINDINGS.check_claim("user:ada", "script", "D:111", "Message/Header/From")


def test_principal_strings() -> None:
    assert user_principal("ehr", "feed") == "feed:ehr" and user_principal("ada", "admin") == "user:ada"
    assert feed_of("feed:ehr") == "ehr" and feed_of("user:ada") is None and feed_of(None) is None
    assert dedupe_sender("feed:ehr", "EHR|HOSP") == "feed:ehr>EHR|HOSP"
    assert dedupe_sender("hl7:EHR|HOSP", "EHR|HOSP") == "hl7:EHR|HOSP"
    assert dedupe_sender("feed:ehr") == "feed:ehr"
    assert split_sender("feed:ehr>EHR|HOSP") == ("feed:ehr", "EHR|HOSP")
    assert split_sender("EHR|HOSP") == ("EHR|HOSP", None)
