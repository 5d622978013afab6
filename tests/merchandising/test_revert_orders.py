"""Each revert order on real rows: titles, lowest variant prices, created times, all-time sales,
and the manual snapshot taken before the first sort."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from merchandising import services
from merchandising.models import CollectionProduct
from tests import factories
from tests.merchandising.conftest import make_collection, sales_recipe

pytestmark = pytest.mark.django_db

# external id: (title, variant prices, created days ago, units sold long ago, units sold today)
ROWS = {
    1: ("banana", ["5.00", "9.00"], 1, 0, 5),
    2: ("Date", ["40.00"], 40, 50, 0),
    3: ("cherry", ["1.00"], 20, 1, 0),
    4: ("apple", ["20.00", "30.00"], 10, 0, 7),
}
EXPECTED = {
    "best-selling": [2, 4, 1, 3],  # all-time units 50, 7, 5, 1
    "alpha-asc": [4, 1, 3, 2],
    "alpha-desc": [2, 3, 1, 4],
    "price-asc": [3, 1, 4, 2],  # lowest variant price 1, 5, 20, 40
    "price-desc": [2, 4, 1, 3],
    "created-asc": [2, 3, 4, 1],
    "created-desc": [1, 4, 3, 2],
    "manual": [3, 1, 2, 4],  # the shop's order before the first sort
}


def order_of(collection) -> list[int]:
    return list(
        CollectionProduct.objects.filter(collection=collection)
        .order_by("position")
        .values_list("product__external_id", flat=True)
    )


@pytest.fixture
def collection(tenant_a):
    now = timezone.now()
    products = {}
    for pid, (title, prices, age, old_units, new_units) in ROWS.items():
        p = factories.product(tenant_a, external_id=pid, name=title, created_at=now - timedelta(days=age))
        variants = [factories.variant(p, price=price, inventory_quantity=1) for price in prices]
        if old_units:
            factories.sale(variants[0], on=now.date() - timedelta(days=300), units=old_units)
        if new_units:
            factories.sale(variants[0], on=now.date(), units=new_units)
        products[pid] = p
    shop_order = [products[pid] for pid in EXPECTED["manual"]]
    return make_collection(tenant_a, shop_order, external_id=55, enabled=True, recipe=sales_recipe(tenant_a, "7"))


@pytest.mark.parametrize("method", list(EXPECTED))
def test_revert_order(tenant_a, collection, method):
    # a recipe sort first (7 days: 4, 1 then the rest), so every revert has something to undo
    assert services.collection_sort_run(collection_pk=collection.pk) == "done"
    assert order_of(collection)[:2] == [4, 1]
    type(collection).objects.filter(pk=collection.pk).update(revert_sorting=method)
    run = services.collection_revert(tenant=tenant_a, collection_id=55)
    assert order_of(collection) == EXPECTED[method]
    assert (run.kind, run.method) == ("revert", method)
    assert set(CollectionProduct.objects.filter(collection=collection).values_list("score", flat=True)) == {None}


def test_manual_snapshot_survives_a_resync_of_a_sorted_collection(tenant_a, collection):
    services.collection_sort_run(collection_pk=collection.pk)
    services.collections_sync(tenant=tenant_a, items=[{"id": 55, "title": "t", "product_ids": [4, 1, 2, 3]}])
    collection.refresh_from_db()
    assert collection.manual_order == EXPECTED["manual"]
