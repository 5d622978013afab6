"""Encryption of the shop secrets the platform must be able to read back (webhook signing secrets).

Fernet (AES-128-CBC + HMAC-SHA256, from the ``cryptography`` package) with the keys in
``SHOP_SECRETS_KEYS``: the first key encrypts, every key decrypts, so a key rotation is "prepend the new
key, re-save, drop the old one".
"""

from __future__ import annotations

import base64
import hashlib
from functools import cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings


def _fernet_key(value: str) -> bytes:
    """A configured key as Fernet wants it: a urlsafe-base64 32-byte key, or any passphrase (hashed to one)."""
    raw = value.encode()
    try:
        if len(base64.urlsafe_b64decode(raw)) == 32:
            return raw
    except ValueError:
        pass
    return base64.urlsafe_b64encode(hashlib.sha256(raw).digest())


@cache
def _box(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(_fernet_key(k)) for k in keys])


def _current() -> MultiFernet:
    return _box(tuple(settings.SHOP_SECRETS_KEYS))


def encrypt(plaintext: str) -> str:
    return _current().encrypt(plaintext.encode()).decode()


def decrypt(token: str) -> str | None:
    """The plaintext, or None when no configured key opens the token (a key was dropped too early)."""
    if not token:
        return None
    try:
        return _current().decrypt(token.encode()).decode()
    except InvalidToken:
        return None


def masked(plaintext: str | None) -> str | None:
    """What may be shown of a secret: its last four characters."""
    if not plaintext:
        return None
    return "…" + plaintext[-4:]
