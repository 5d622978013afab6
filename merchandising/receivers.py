"""Signal receivers: per-tenant defaults when a shop is created."""

from __future__ import annotations

from tenants.models import Tenant


def create_default_recipes(sender, tenant: Tenant, **kwargs) -> None:
    """Every new shop starts with the starter recipes (inside the creating transaction)."""
    from merchandising.services import recipes_ensure_defaults

    recipes_ensure_defaults(tenant=tenant)
