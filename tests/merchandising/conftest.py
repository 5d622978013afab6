"""Fixtures of the merchandising tests: a small shop with a collection, and an action caller."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from catalog.models import Product, Variant
from merchandising.models import Collection, CollectionProduct, Recipe
from tests import factories

ENDPOINT = "/api/v1/"


def call(client, action: str | None = None, **params):
    body = dict(params)
    if action is not None:
        body["action"] = action
    return client.post(ENDPOINT, body, format="json")


def ok(response) -> object:
    assert response.status_code == 200, (response.status_code, response.content[:500])
    body = response.json()
    assert body["success"] is True and set(body) == {"success", "data"}
    return body["data"]


def error(response, status: int, code: str) -> dict:
    assert response.status_code == status, (response.status_code, response.content[:500])
    body = response.json()
    assert set(body) == {"error", "message", "code"} and body["error"] is True and body["code"] == code, body
    return body


def make_collection(tenant, products: list[Product], external_id: int = 123456789, **fields) -> Collection:
    collection = Collection.objects.create(tenant=tenant, external_id=external_id, title=f"C{external_id}", **fields)
    CollectionProduct.objects.bulk_create(
        CollectionProduct(tenant=tenant, collection=collection, product=p, position=i) for i, p in enumerate(products)
    )
    return collection


def sales_recipe(tenant, days: str = "30", **weights) -> Recipe:
    weights = weights or {"sales": 100}
    return Recipe.objects.create(
        tenant=tenant,
        name=f"r-{days}-{sorted(weights.items())}",
        days=days,
        **{f"weight_{k}": v for k, v in weights.items()},
    )


@dataclass
class Shop:
    products: list[Product]
    variants: list[Variant]
    collection: Collection
    other_collection: Collection
    recipe: Recipe
    extra: dict = field(default_factory=dict)


@pytest.fixture
def shop(tenant_a) -> Shop:
    """Three products (ids 1001..1003) with stock and a sale each, in collections 123456789 and 987654321."""
    now = timezone.now()
    products, variants = [], []
    for i, units in enumerate([2, 9, 5]):
        p = factories.product(
            tenant_a, external_id=1001 + i, name=f"Item {'CAB'[i]}", created_at=now - timedelta(days=10 + i)
        )
        v = factories.variant(p, price=Decimal("10.00") + i, inventory_quantity=5, external_id=5001 + i)
        factories.sale(v, on=now.date(), units=units)
        products.append(p)
        variants.append(v)
    collection = make_collection(tenant_a, products)
    other = make_collection(tenant_a, products[:1], external_id=987654321)
    recipe = Recipe.objects.for_tenant(tenant_a).get(name="Best sellers (30 days)")
    return Shop(products, variants, collection, other, recipe)
