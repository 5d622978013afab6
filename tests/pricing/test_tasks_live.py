"""Repricing in a real Celery worker (PostgreSQL and Redis only)."""

from __future__ import annotations

from decimal import Decimal

from catalog.models import Variant
from pricing.models import PriceChange, PricingSettings, RepriceRun
from pricing.tasks import reprice_tenant
from tests.celery_worker import wait_for
from tests.pricing.conftest import observe, priced_product


def test_reprice_task_runs_in_a_worker_and_is_idempotent(live_celery_worker, tenant_a):
    product = priced_product(tenant_a, price="20.00", extra_prices=("30.00",))
    PricingSettings.objects.create(tenant=tenant_a, product=product, auto_reprice=True)
    observe(tenant_a, product, "Rival", "15.00")  # also enqueues the task itself, on commit

    reprice_tenant.delay(tenant_a.pk, [product.pk], "test")
    reprice_tenant.delay(tenant_a.pk, None, "test")
    assert wait_for(lambda: RepriceRun.objects.filter(tenant=tenant_a, state="done").count() >= 3, timeout=60)
    assert list(Variant.objects.filter(product=product).order_by("position").values_list("price", flat=True)) == [
        Decimal("15.00"),
        Decimal("22.50"),
    ]
    assert PriceChange.objects.filter(product=product).count() == 1
