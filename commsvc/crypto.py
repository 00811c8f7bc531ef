"""Encryption at rest for message bodies and media URLs (Fernet, keys rotated newest first)."""
from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import hmac
import logging

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from sqlalchemy import ColumnElement, Text, type_coerce
from sqlalchemy.types import TypeDecorator


class _Unavailable(str):
    """A value whose key is gone: it reads as this marker, never as an error."""

    __slots__ = ()


UNAVAILABLE = _Unavailable("[unavailable: encryption key not configured]")

log = logging.getLogger("commsvc.crypto")


def _encrypted_at(token: str) -> str:
    """When a Fernet token's value was first encrypted (its clear header; no key needed; a
    rotation keeps it). Fernet names no key: this is what a log line can say of one."""
    try:
        raw = base64.urlsafe_b64decode(token)
        if len(raw) > 9 and raw[0] == 0x80:  # Fernet's version byte, then the time
            seconds = int.from_bytes(raw[1:9], "big")
            return dt.datetime.fromtimestamp(seconds, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    except (binascii.Error, ValueError, OverflowError, OSError):
        pass
    return "an unknown time (not a Fernet token)"


class Keyring:
    """The configured keys: the first encrypts, all of them decrypt."""

    def __init__(self, keys: tuple[str, ...] | list[str]):
        if not keys:
            raise ValueError("at least one encryption key is needed")
        self._fernets = [Fernet(k) for k in keys]
        self._multi = MultiFernet(self._fernets)
        self._warned = False

    @property
    def key_count(self) -> int:
        return len(self._fernets)

    def encrypt(self, plaintext: str) -> str:
        return self._multi.encrypt(plaintext.encode()).decode()

    def decrypt(self, token: str) -> str:
        try:
            return self._multi.decrypt(token.encode()).decode()
        except InvalidToken:
            if not self._warned:  # once a process: the reads answer on, the operator is told
                self._warned = True
                log.warning("a stored body or media list (first encrypted at %s) opens with"
                            " none of the %d keys in ENCRYPTION_KEYS: it reads as unavailable"
                            " until its key is configured again (removed before `commsvc"
                            " encryption rotate` said done and 0 unavailable?)",
                            _encrypted_at(token), self.key_count)
            return UNAVAILABLE

    def is_current(self, token: str) -> bool:
        """Whether the token was made with the newest key (rotation skips those)."""
        try:
            self._fernets[0].decrypt(token.encode())
            return True
        except InvalidToken:
            return False

    def rotate(self, token: str) -> str | None:
        """Re-encrypt under the newest key; None when no configured key opens it."""
        try:
            return self._multi.rotate(token.encode()).decode()
        except InvalidToken:
            return None


_state: dict[str, Keyring] = {}


def install(keyring: Keyring) -> None:
    """Make the keyring the one EncryptedText columns use (called by create_app)."""
    _state["keyring"] = keyring


def keyring() -> Keyring:
    try:
        return _state["keyring"]
    except KeyError:
        raise RuntimeError("no keyring installed; create the app first") from None


class EncryptedText(TypeDecorator):
    """A text column stored as a Fernet token; reads as UNAVAILABLE when its key is gone."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if isinstance(value, _Unavailable):
            raise ValueError("an unreadable value cannot be written back")
        return keyring().encrypt(value)

    def process_result_value(self, value, dialect):
        return opened(value)


def sealed(column) -> ColumnElement:
    """An EncryptedText column read as its stored token, for a reader that decrypts only
    what it shows (`opened`), after its transaction has ended."""
    return type_coerce(column, Text).label(column.key)


def opened(token: str | None) -> str | None:
    """A stored token's value, UNAVAILABLE when its key is gone (as EncryptedText reads it)."""
    if token is None:
        return None
    return keyring().decrypt(token)


def phone_hmac(key: str, e164: str) -> str:
    """A keyed hash of a number, for ledgers that must not hold the number itself."""
    return hmac.new(key.encode(), e164.encode(), hashlib.sha256).hexdigest()
