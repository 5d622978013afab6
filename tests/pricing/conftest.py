"""Fixtures of the pricing tests: priced products, competitor observations, a task-call recorder."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from catalog.models import Product
from pricing import services
from pricing.services import ObservationIn
from tenants.models import Tenant
from tests import factories


def priced_product(
    tenant: Tenant, *, price: str = "25.00", cost: str | None = None, extra_prices: tuple[str, ...] = (), **fields
) -> Product:
    """A product whose reference variant has ``price`` (and more variants at ``extra_prices``)."""
    product = factories.product(tenant, **fields)
    for position, value in enumerate((price, *extra_prices), start=1):
        factories.variant(product, price=value, cost=Decimal(cost) if cost else None, position=position)
    return product


def observe(
    tenant: Tenant,
    product: Product,
    competitor: str,
    price: str,
    *,
    in_stock: bool = True,
    at: datetime | None = None,
    url: str = "",
) -> dict:
    item = ObservationIn(
        index=0,
        product_id=product.external_id,
        competitor=competitor,
        url=url,
        price=Decimal(price),
        in_stock=in_stock,
        observed_at=at or timezone.now() - timedelta(minutes=5),
    )
    return services.observations_ingest(tenant=tenant, items=[item])[0]


@pytest.fixture
def task_calls(monkeypatch) -> list[tuple]:
    """Record reprice_tenant.delay calls instead of sending them to a broker."""
    from pricing import tasks

    calls: list[tuple] = []
    monkeypatch.setattr(tasks.reprice_tenant, "delay", lambda *args: calls.append(args))
    return calls
