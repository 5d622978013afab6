"""Small factories for product-master rows (tests of every app build on them)."""

from __future__ import annotations

import itertools
from datetime import date, datetime
from decimal import Decimal

from django.utils import timezone

from catalog.models import DailySales, Order, OrderLine, Product, ProductOption, Variant
from tenants.models import Tenant

_ids = itertools.count(1_000_000)


def product(tenant: Tenant, **fields) -> Product:
    fields.setdefault("external_id", next(_ids))
    fields.setdefault("name", f"Product {fields['external_id']}")
    return Product.objects.create(tenant=tenant, **fields)


def option(product_: Product, name: str, values: list[str], position: int = 1, **fields) -> ProductOption:
    fields.setdefault("external_id", next(_ids))
    return ProductOption.objects.create(
        tenant_id=product_.tenant_id, product=product_, name=name, values=values, position=position, **fields
    )


def variant(product_: Product, *, price: str | Decimal = "10.00", **fields) -> Variant:
    fields.setdefault("external_id", next(_ids))
    return Variant.objects.create(tenant_id=product_.tenant_id, product=product_, price=Decimal(str(price)), **fields)


def sale(variant_: Variant, *, on: date, units: int, revenue: str | Decimal | None = None) -> DailySales:
    """A daily sales row directly (for engine tests that need no orders)."""
    revenue = Decimal(str(revenue)) if revenue is not None else variant_.price * units
    return DailySales.objects.create(
        tenant_id=variant_.tenant_id,
        product_id=variant_.product_id,
        variant=variant_,
        date=on,
        units=units,
        revenue=revenue,
    )


def order(tenant: Tenant, lines: list[tuple[Variant, int]], *, at: datetime | None = None) -> Order:
    created = at or timezone.now()
    order_ = Order.objects.create(tenant=tenant, external_id=next(_ids), created_at=created)
    OrderLine.objects.bulk_create(
        OrderLine(
            tenant=tenant,
            order=order_,
            product_id=v.product_id,
            variant=v,
            product_external_id=v.product.external_id,
            variant_external_id=v.external_id,
            quantity=qty,
            price=v.price,
        )
        for v, qty in lines
    )
    return order_
