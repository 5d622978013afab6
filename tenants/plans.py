"""Plans and the API surfaces each plan allows (DESIGN.md "Tenancy")."""

from __future__ import annotations

from enum import StrEnum


class Surface(StrEnum):
    MERCHANDISING = "merchandising"
    CATALOG = "catalog"
    PRICING = "pricing"
    PLATFORM = "platform"


class Plan(StrEnum):
    STARTER = "starter"
    GROWTH = "growth"
    ENTERPRISE = "enterprise"


PLAN_SURFACES: dict[Plan, frozenset[Surface]] = {
    Plan.STARTER: frozenset(),
    Plan.GROWTH: frozenset({Surface.MERCHANDISING, Surface.CATALOG}),
    Plan.ENTERPRISE: frozenset(Surface),
}


def plan_allows(plan: str, surface: str) -> bool:
    """True when ``plan`` includes API access to ``surface``."""
    try:
        return Surface(surface) in PLAN_SURFACES[Plan(plan)]
    except ValueError:
        return False
