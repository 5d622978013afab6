"""Celery tasks of pricing: thin wrappers over services, safe to run twice."""

from __future__ import annotations

from celery import shared_task

from core.retry import TRANSIENT
from pricing import services
from tenants.models import Tenant


@shared_task(
    acks_late=True,
    ignore_result=True,
    autoretry_for=TRANSIENT,
    retry_backoff=5,
    retry_backoff_max=300,
    max_retries=3,
)
def reprice_tenant(tenant_id: int, product_ids: list[int] | None = None, trigger: str = "schedule") -> int:
    """Reprice a tenant's auto-repriced products (all, or the given internal product ids).

    Idempotent: the engine decides from the current prices, so a re-run finds
    nothing left to change. Each attempt leaves a RepriceRun row (``error`` with
    the reason when it failed).
    """
    tenant = Tenant.objects.filter(pk=tenant_id).first()
    if tenant is None:  # deleted since it was enqueued: nothing to do
        return 0
    run = services.products_reprice(tenant=tenant, product_ids=product_ids, trigger=trigger)
    return run.products_changed


@shared_task(acks_late=True, ignore_result=True)
def reprice_all_tenants() -> int:
    """Beat: enqueue one repricing task per tenant with auto-repriced products."""
    tenant_ids = services.tenants_to_reprice()
    for tenant_id in tenant_ids:
        reprice_tenant.delay(tenant_id, None, "schedule")
    return len(tenant_ids)
