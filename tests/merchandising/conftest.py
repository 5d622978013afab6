"""Fixtures of the merchandising tests: a small shop with a collection, and an action caller."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from catalog.models import Product, Variant
from merchandising.models import Collection, CollectionProduct, Recipe
from tests import factories

ENDPOINT = "/api/v1/"


@pytest.fixture(autouse=True)
def _eager_tasks(eager_tasks):
    """Tasks run inline unless a test starts a live worker (which turns eager off for itself)."""
    yield


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


DOC_PRODUCT_ID = 123456789
DOC_OPTION_ID = 111


@pytest.fixture
def shop(tenant_a) -> Shop:
    """The doc's ids: product 123456789 (option 111 "Color") plus products 1002, 1003, in collections
    123456789 (all three) and 987654321 (the first); one sale each (2, 9 and 5 units today)."""
    now = timezone.now()
    products, variants = [], []
    for i, (pid, units) in enumerate([(DOC_PRODUCT_ID, 2), (1002, 9), (1003, 5)]):
        p = factories.product(
            tenant_a, external_id=pid, name=f"Item {'CAB'[i]}", created_at=now - timedelta(days=10 + i)
        )
        v = factories.variant(
            p, price=Decimal("10.00") + i, inventory_quantity=5, external_id=5001 + i, option1="Red", option2="M"
        )
        factories.sale(v, on=now.date(), units=units)
        products.append(p)
        variants.append(v)
    factories.option(products[0], "Color", ["Red", "Blue"], position=1, external_id=DOC_OPTION_ID)
    factories.option(products[0], "Size", ["M", "S"], position=2, external_id=112)
    blue = factories.variant(
        products[0], price="10.00", inventory_quantity=3, external_id=5010, option1="Blue", option2="S"
    )
    factories.sale(blue, on=now.date(), units=7)
    collection = make_collection(tenant_a, products)
    other = make_collection(tenant_a, products[:1], external_id=987654321)
    recipe = Recipe.objects.for_tenant(tenant_a).get(name="Best sellers (30 days)")
    return Shop(products, variants, collection, other, recipe)
