"""Dynasort contract points a client-eye run found: list_collections lists every collection, get_collection
says in its response how to get the products it does not show, set_product_boost takes any 32-bit integer."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from catalog.models import Product
from merchandising import sorting
from merchandising.models import Collection, ProductSetting
from tests import factories
from tests.merchandising.conftest import call, error, make_collection, ok

pytestmark = pytest.mark.django_db
T0 = datetime(2025, 1, 1, tzinfo=UTC)


def test_list_collections_lists_all_of_them_past_250(dynasort, tenant_a, tenant_b):
    Collection.objects.bulk_create(Collection(tenant=tenant_a, external_id=1000 + i, title=f"C{i}") for i in range(260))
    Collection.objects.create(tenant=tenant_b, external_id=5, title="other shop")
    data = ok(call(dynasort, "list_collections"))
    assert [c["id"] for c in data] == [1000 + i for i in range(260)]


def test_list_collections_still_pages_when_asked(dynasort, tenant_a):
    Collection.objects.bulk_create(Collection(tenant=tenant_a, external_id=1 + i, title=f"C{i}") for i in range(5))
    assert [c["id"] for c in ok(call(dynasort, "list_collections", since_id=2, limit=2))] == [3, 4]


@pytest.fixture
def big_collection(tenant_a):
    products = [factories.product(tenant_a, external_id=5000 + i) for i in range(7)]
    return make_collection(tenant_a, products, external_id=77)


def test_get_collection_says_how_to_get_the_products_it_does_not_show(dynasort, big_collection):
    data = ok(call(dynasort, "get_collection", collection_id=77, limit=3))
    assert [p["product_id"] for p in data["products"]] == [5000, 5001, 5002]
    assert (data["product_count"], data["has_more"], data["next_offset"]) == (7, True, 3)
    assert data["products_note"] == "Products 1-3 of 7; call get_collection with offset=3 for more."
    data = ok(call(dynasort, "get_collection", collection_id=77, limit=3, offset=data["next_offset"]))
    assert [p["product_id"] for p in data["products"]] == [5003, 5004, 5005]
    data = ok(call(dynasort, "get_collection", collection_id=77, limit=3, offset=data["next_offset"]))
    assert [p["product_id"] for p in data["products"]] == [5006]
    assert (data["has_more"], data["next_offset"]) == (False, None)
    assert data["products_note"] == "Products 7-7 of 7; there are no more."


def test_get_collection_past_the_end_says_so(dynasort, big_collection):
    data = ok(call(dynasort, "get_collection", collection_id=77, offset=50))
    assert data["products"] == [] and data["has_more"] is False
    assert data["products_note"] == "No products at offset 50; the collection has 7."


def test_get_collection_of_another_shop_is_not_found(dynasort, tenant_b):
    make_collection(tenant_b, [factories.product(tenant_b, external_id=9)], external_id=78)
    error(call(dynasort, "get_collection", collection_id=78), 404, "not_found")


@pytest.mark.parametrize("boost", [100_000, -100_000, 2**31 - 1, -(2**31)])
def test_set_product_boost_accepts_any_32_bit_integer(dynasort, tenant_a, boost):
    product = factories.product(tenant_a, external_id=4242)
    data = ok(call(dynasort, "set_product_boost", product_id=4242, boost=boost))
    assert data == {"product_id": 4242, "boost": boost}
    assert ProductSetting.objects.get(product=product).boost == boost


@pytest.mark.parametrize("boost", [2**31, -(2**31) - 1, 1.5, "10"])
def test_set_product_boost_refuses_what_is_no_32_bit_integer(dynasort, tenant_a, boost):
    factories.product(tenant_a, external_id=4242)
    error(call(dynasort, "set_product_boost", product_id=4242, boost=boost), 400, "invalid_params")
    assert not ProductSetting.objects.filter(product__external_id=4242, boost__gt=0).exists()


def test_the_largest_boosts_still_order_exactly_in_scoring():
    products = [
        sorting.ProductFacts(product_id=i, title="", created_at=T0, sold_out=False, metrics={}, boost=b)
        for i, b in enumerate([2**31 - 1, 2**31 - 2, -(2**31)], start=1)
    ]
    assert [s.score for s in sorting.score_products(products, {"sales": 100})] == [2**31 - 1, 2**31 - 2, -(2**31)]


def test_boost_of_another_shops_product_is_not_found(dynasort, tenant_b):
    Product.objects.create(tenant=tenant_b, external_id=4243, name="x")
    error(call(dynasort, "set_product_boost", product_id=4243, boost=5), 404, "not_found")
