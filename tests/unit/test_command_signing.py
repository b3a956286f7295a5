"""Signing and verifying commands: the exact bytes, the key that signed them, rotation, and refusals."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import SecretStr

from hub.config import Settings
from hub.errors import UnauthenticatedCommand
from hub.security.command_signing import SIGNATURE_HEADER, CommandKeys, command_keys, key_id, new_key

OLD = "old-command-key-0123456789abcdef"
NEW = "new-command-key-fedcba9876543210"
BODY = b'{"message_id":"1","type":"RecordVerification","actor":"u-1","payload":{"approve":true}}'


def test_a_signed_body_verifies_and_names_its_key() -> None:
    keys = CommandKeys([NEW])
    headers = keys.headers(BODY)
    kid, _, mac = headers[SIGNATURE_HEADER].partition(":")
    assert kid == hashlib.sha256(NEW.encode()).hexdigest()[:8] == key_id(NEW.encode()) == keys.signing_kid
    assert len(mac) == 64 and NEW not in headers[SIGNATURE_HEADER]
    assert keys.verify(BODY, headers) == kid


def test_header_values_pika_hands_over_as_bytes_verify_too() -> None:
    keys = CommandKeys([NEW])
    assert keys.verify(BODY, {SIGNATURE_HEADER: keys.sign(BODY).encode()}) == keys.signing_kid


@given(st.binary(min_size=1, max_size=300), st.data())
def test_any_changed_byte_fails(body: bytes, data: st.DataObject) -> None:
    keys = CommandKeys([NEW])
    headers = keys.headers(body)
    at = data.draw(st.integers(0, len(body) - 1))
    flip = data.draw(st.integers(1, 255))
    tampered = body[:at] + bytes([body[at] ^ flip]) + body[at + 1 :]
    with pytest.raises(UnauthenticatedCommand, match="does not match"):
        keys.verify(tampered, headers)


def test_rotation_the_first_key_signs_and_an_old_one_still_verifies() -> None:
    before = CommandKeys([OLD])
    after = CommandKeys.parse(f"{NEW}, {OLD}")
    signed_before = before.headers(BODY)
    assert after.verify(BODY, signed_before) == key_id(OLD.encode()), "in flight across the rotation"
    assert after.signing_kid == key_id(NEW.encode())
    with pytest.raises(UnauthenticatedCommand, match="unknown key id"):
        before.verify(BODY, after.headers(BODY))  # a process not rotated yet: why the new key goes second first


def test_a_retired_or_foreign_key_is_refused() -> None:
    forged = CommandKeys([new_key()]).headers(BODY)
    with pytest.raises(UnauthenticatedCommand, match="unknown key id"):
        CommandKeys([NEW]).verify(BODY, forged)


def test_a_known_kid_with_another_keys_mac_is_refused() -> None:
    keys = CommandKeys([NEW])
    other = CommandKeys([OLD]).sign(BODY).partition(":")[2]
    with pytest.raises(UnauthenticatedCommand, match="does not match"):
        keys.verify(BODY, {SIGNATURE_HEADER: f"{keys.signing_kid}:{other}"})


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        (None, "no x-rxhub-signature"),
        ({}, "no x-rxhub-signature"),
        ({SIGNATURE_HEADER: "no-colon"}, "malformed"),
        ({SIGNATURE_HEADER: "abcd1234:"}, "malformed"),
        ({SIGNATURE_HEADER: 42}, "malformed"),
        ({SIGNATURE_HEADER: "é" * 3 + ":" + "0" * 64}, "unknown key id"),
    ],
)
def test_missing_or_malformed_signatures_are_refused(headers: dict[str, object] | None, reason: str) -> None:
    with pytest.raises(UnauthenticatedCommand, match=reason):
        CommandKeys([NEW]).verify(BODY, headers)


@pytest.mark.parametrize("setting", ["", " , ", "short", f"{NEW},tooshort"])
def test_empty_or_short_keys_are_refused_without_quoting_them(setting: str) -> None:
    with pytest.raises(ValueError, match="RXHUB_COMMAND_KEY") as info:
        CommandKeys.parse(setting)
    assert NEW not in str(info.value) and "tooshort" not in str(info.value)


def test_the_setting_wins_over_the_database() -> None:
    settings = Settings(command_key=SecretStr(f"{NEW},{OLD}"))
    keys = command_keys(settings, engine=None)  # type: ignore[arg-type]  # never read with a key configured
    assert keys.signing_kid == key_id(NEW.encode())
    assert keys.verify(BODY, CommandKeys([OLD]).headers(BODY)) == key_id(OLD.encode())


def test_rxhub_certs_command_key_prints_a_usable_key(capsys: pytest.CaptureFixture[str]) -> None:
    from hub.entrypoints.cli_security import main

    assert main(["certs", "command-key"]) == 0
    printed = capsys.readouterr().out.strip()
    assert len(printed) == 64 and CommandKeys([printed]).verify(BODY, CommandKeys([printed]).headers(BODY))
