from __future__ import annotations

from django.db import transaction

from tenants.models import Tenant
from tenants.plans import Plan
from tenants.signals import tenant_created


@transaction.atomic
def tenant_create(
    *, domain: str, name: str, plan: str = Plan.ENTERPRISE, should_recommend_products: bool = True
) -> Tenant:
    """Create a tenant and let the apps add their per-tenant defaults (e.g. starter recipes)."""
    tenant = Tenant(
        domain=domain.strip().lower(), name=name, plan=Plan(plan), should_recommend_products=should_recommend_products
    )
    tenant.full_clean()
    tenant.save()
    tenant_created.send(sender=Tenant, tenant=tenant)
    return tenant
