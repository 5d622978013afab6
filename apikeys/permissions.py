"""Key permission levels: read < write < admin (DESIGN.md "API keys")."""

from __future__ import annotations

from enum import StrEnum


class Permission(StrEnum):
    READ = "read"
    WRITE = "write"
    ADMIN = "admin"


# What a connector key may hold: the Dynasort actions are read or write; key management is no
# connector business (it needs an ``sk_live_`` admin key on the platform surface).
CONNECTOR_PERMISSIONS = (Permission.READ, Permission.WRITE)

_RANK = {Permission.READ: 1, Permission.WRITE: 2, Permission.ADMIN: 3}


def permission_allows(held: str, required: str) -> bool:
    """True when a key holding ``held`` may do what needs ``required``."""
    return _RANK[Permission(held)] >= _RANK[Permission(required)]
