"""API key strings: generation, checksum and hashing. Pure, no Django.

Formats (DESIGN.md "API keys"):
- connector keys: ``dyn_sk_`` + 64 hex characters (256 random bits) + 8 hex characters of CRC32;
- other keys: ``sk_live_`` + 43 base62 characters (256 random bits) + 6 base62 characters of CRC32.

The checksum covers everything before it (prefix included), as GitHub's token
format does, so a mistyped or truncated key is rejected before any I/O and
secret scanners can recognise a leaked key. The key is stored only as the
SHA-256 of the whole string: with 256 random bits a fast hash is safe.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import zlib
from enum import StrEnum

BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


class KeyKind(StrEnum):
    CONNECTOR = "connector"
    STANDARD = "standard"


CONNECTOR_PREFIX = "dyn_sk_"
STANDARD_PREFIX = "sk_live_"
_CONNECTOR_RE = re.compile(r"dyn_sk_([0-9a-f]{64})([0-9a-f]{8})")
_STANDARD_RE = re.compile(r"sk_live_([0-9A-Za-z]{43})([0-9A-Za-z]{6})")
DISPLAY_PREFIX_LENGTH = 12


def _base62(number: int, width: int) -> str:
    digits = []
    for _ in range(width):
        number, rem = divmod(number, 62)
        digits.append(BASE62[rem])
    return "".join(reversed(digits))


def _crc(text: str) -> int:
    return zlib.crc32(text.encode("ascii")) & 0xFFFFFFFF


def _connector_from_body(body: str) -> str:
    head = CONNECTOR_PREFIX + body
    return f"{head}{_crc(head):08x}"


def _standard_from_body(body: str) -> str:
    head = STANDARD_PREFIX + body
    return head + _base62(_crc(head), 6)


def generate(kind: KeyKind, *, seed: bytes | None = None) -> str:
    """A new key of ``kind``. ``seed`` (only for the demo shop's fixed keys) makes it deterministic."""
    entropy = hashlib.sha256(seed).digest() if seed is not None else secrets.token_bytes(32)
    if kind == KeyKind.CONNECTOR:
        return _connector_from_body(entropy.hex())
    return _standard_from_body(_base62(int.from_bytes(entropy, "big"), 43))


def is_well_formed(plaintext: str) -> bool:
    """Format and checksum check; no I/O. False for anything that cannot be a key of ours."""
    if len(plaintext) > 100:
        return False
    if match := _CONNECTOR_RE.fullmatch(plaintext):
        return _connector_from_body(match.group(1)) == plaintext
    if match := _STANDARD_RE.fullmatch(plaintext):
        return _standard_from_body(match.group(1)) == plaintext
    return False


def digest(plaintext: str) -> str:
    """The stored form of a key: SHA-256 hex of the whole string."""
    return hashlib.sha256(plaintext.encode("utf-8")).hexdigest()


def display_parts(plaintext: str) -> tuple[str, str]:
    """(prefix, last four) shown in lists so a key can be recognised without being usable."""
    return plaintext[:DISPLAY_PREFIX_LENGTH], plaintext[-4:]
