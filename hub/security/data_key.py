"""Raw messages at rest: Fernet (AES-128-CBC + HMAC-SHA256) with the key from RXHUB_DATA_KEY.

Several comma-separated keys rotate: the first encrypts, any decrypts.  Encrypted values carry a prefix,
so rows written before a key was configured still read back, and a missing key is an error, not garbage.
The process-wide cipher is installed by the entrypoint from Settings; a process that installed none (a
worker started without the doors) falls back to the same environment variable.
"""

from __future__ import annotations

import os

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from hub.errors import InfrastructureError

PREFIX = b"rxenc1:"
ENV = "RXHUB_DATA_KEY"


class DataKeyError(InfrastructureError):
    """Encrypted raw messages cannot be read: no key, or not the key they were written with."""


class RawCipher:
    """Encrypts and decrypts stored message bodies."""

    def __init__(self, keys: str) -> None:
        try:
            self._fernet = MultiFernet([Fernet(k.strip()) for k in keys.split(",") if k.strip()])
        except (ValueError, TypeError):
            # from None: the exception would quote the key
            raise DataKeyError(f"{ENV} is not a valid Fernet key list") from None

    def seal(self, raw: bytes) -> bytes:
        """The stored form of a message body."""
        return PREFIX + self._fernet.encrypt(raw)

    def open(self, stored: bytes) -> bytes:
        """The body back from its stored form (clear rows from before encryption pass through)."""
        if not stored.startswith(PREFIX):
            return stored
        try:
            return self._fernet.decrypt(stored[len(PREFIX) :])
        except InvalidToken:
            raise DataKeyError(f"a stored raw message does not decrypt with {ENV}") from None


def new_key() -> str:
    """A fresh random key for RXHUB_DATA_KEY."""
    return Fernet.generate_key().decode()


_installed: RawCipher | None = None


def install(keys: str | None) -> None:
    """Set the process's cipher from the settings (None: store in clear)."""
    global _installed
    _installed = RawCipher(keys) if keys else None


def current() -> RawCipher | None:
    """The installed cipher, else one from the environment, else None."""
    if _installed is not None:
        return _installed
    keys = os.environ.get(ENV)
    return RawCipher(keys) if keys else None


def seal(raw: bytes) -> bytes:
    """Encrypt with the current cipher, or keep in clear when none is configured."""
    cipher = current()
    return cipher.seal(raw) if cipher else raw


def reveal(stored: bytes | None) -> bytes | None:
    """Decrypt a stored body; an encrypted one without a key is an error."""
    if stored is None or not stored.startswith(PREFIX):
        return stored
    cipher = current()
    if cipher is None:
        raise DataKeyError(f"stored raw messages are encrypted and {ENV} is not set")
    return cipher.open(stored)
