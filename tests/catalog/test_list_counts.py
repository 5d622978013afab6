"""Issue 17: the lists' totals come from counters the database keeps with every write (catalog/counters.py),
equal to COUNT(*) after every writer path and never mixing tenants; list pages cost a constant number of
queries whatever the page size and the shop's size."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from catalog import counters, selectors, services
from catalog.models import Product, ProductCount
from merchandising import selectors as merchandising_selectors
from merchandising.models import Collection, CollectionProduct, CollectionProductCount
from tenants.models import Tenant
from tests import factories

pytestmark = pytest.mark.django_db


def assert_exact() -> None:
    assert counters.check(counters.PRODUCTS) == []
    assert counters.check(counters.COLLECTION_PRODUCTS) == []


def shopify_product(external_id: int) -> dict:
    return {
        "id": external_id,
        "title": f"Lamp {external_id}",
        "status": "active",
        "variants": [{"id": external_id * 10, "title": "Default", "price": "10.00"}],
    }


def sync_products(client, ids: list[int]):
    response = client.put("/api/platform/v1/products", {"products": [shopify_product(i) for i in ids]}, format="json")
    assert response.status_code == 200, response.content
    return response


def sync_collection(client, external_id: int, product_ids: list[int]):
    response = client.put(
        "/api/platform/v1/collections",
        {"collections": [{"id": external_id, "title": "Picks", "product_ids": product_ids}]},
        format="json",
    )
    assert response.status_code == 200, response.content


def total(tenant: Tenant) -> int:
    return selectors.product_total(tenant=tenant)


# ---- every writer path keeps the counts exact ------------------------------------------------------------


def test_empty_tenant_counts_zero(tenant_a):
    assert total(tenant_a) == 0


def test_sortillus_create_counts(sortillus, tenant_a):
    for external_id in (1, 2):
        assert (
            sortillus.post("/api/v3/products", {"product": {"id": external_id, "name": "x"}}, format="json").status_code
            == 201
        )
    assert total(tenant_a) == 2
    # a refused create (duplicate id) changes nothing
    assert sortillus.post("/api/v3/products", {"product": {"id": 1, "name": "x"}}, format="json").status_code >= 400
    sortillus.patch("/api/v3/products/1", {"product": {"name": "renamed"}}, format="json")
    assert total(tenant_a) == 2
    assert_exact()


def test_platform_sync_counts_new_rows_only(platform, tenant_a):
    sync_products(platform, [1, 2, 3])
    assert total(tenant_a) == 3
    sync_products(platform, [2, 3, 4, 5])  # two updated (INSERT ... ON CONFLICT DO UPDATE), two new
    assert total(tenant_a) == 5
    sync_products(platform, [2, 3, 4, 5])  # identical re-sync
    assert total(tenant_a) == 5
    assert_exact()


def test_service_orm_and_bulk_writes_count(tenant_a):
    services.product_create(tenant=tenant_a, external_id=7, name="seven")
    factories.product(tenant_a, external_id=8)
    Product.objects.bulk_create([Product(tenant=tenant_a, external_id=i, name="bulk") for i in range(20, 30)])
    assert total(tenant_a) == 12
    Product.objects.filter(tenant=tenant_a, external_id__gte=25).delete()  # the admin's delete_selected path
    assert total(tenant_a) == 7
    assert_exact()


def test_webhook_delete_service_counts(platform, tenant_a):
    sync_products(platform, [1, 2, 3])
    services.products_delete(tenant=tenant_a, external_ids=[1, 3, 99])
    assert total(tenant_a) == 1
    assert_exact()


def test_admin_delete_counts(admin_client, tenant_a):
    product = factories.product(tenant_a, external_id=4)
    factories.product(tenant_a, external_id=5)
    response = admin_client.post(f"/admin/catalog/product/{product.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert total(tenant_a) == 1
    assert_exact()


def test_counts_never_mix_tenants(platform, api, keys_b, tenant_a, tenant_b):
    sync_products(platform, [1, 2, 3])
    sync_products(api(keys_b.admin.plaintext), [1, 2])  # the same external ids in another shop
    factories.product(tenant_b, external_id=9)
    assert (total(tenant_a), total(tenant_b)) == (3, 3)
    Product.objects.filter(tenant=tenant_b, external_id=1).delete()
    assert (total(tenant_a), total(tenant_b)) == (3, 2)
    assert_exact()


def test_tenant_cascade_delete_leaves_no_counter_rows(platform, tenant_a, tenant_b):
    sync_products(platform, [1, 2])
    sync_collection(platform, 50, [1, 2])
    factories.product(tenant_b, external_id=1)
    tenant_a.delete()
    assert not ProductCount.objects.filter(tenant_id=tenant_a.pk).exists()
    assert not CollectionProductCount.objects.filter(tenant_id=tenant_a.pk).exists()
    assert total(tenant_b) == 1
    assert_exact()


def test_collection_membership_counts(platform, tenant_a):
    sync_products(platform, [1, 2, 3, 4])
    sync_collection(platform, 50, [1, 2, 3])
    collection = Collection.objects.get(tenant=tenant_a, external_id=50)
    assert merchandising_selectors.collection_product_total(collection=collection) == 3
    sync_collection(platform, 50, [3, 4])  # one kept, one added, two removed
    assert merchandising_selectors.collection_product_total(collection=collection) == 2
    services.products_delete(tenant=tenant_a, external_ids=[4])  # a membership goes with its product
    assert merchandising_selectors.collection_product_total(collection=collection) == 1
    assert_exact()
    Collection.objects.filter(pk=collection.pk).delete()
    assert not CollectionProductCount.objects.filter(collection_id=collection.pk).exists()
    assert_exact()


def test_refused_collection_item_changes_no_count(platform, tenant_a):
    sync_products(platform, [1])
    response = platform.put(
        "/api/platform/v1/collections",
        {"collections": [{"id": 51, "title": "Bad", "product_ids": [1, 999]}]},
        format="json",
    )
    assert response.status_code in (200, 207, 400, 422)
    assert not CollectionProduct.objects.filter(tenant=tenant_a, collection__external_id=51).exists()
    assert_exact()


def test_recount_check_finds_and_rebuild_fixes_a_wrong_counter(tenant_a):
    factories.product(tenant_a, external_id=1)
    call_command("recount", "--check")
    ProductCount.objects.filter(tenant=tenant_a).update(n=41)
    with pytest.raises(CommandError):
        call_command("recount", "--check")
    call_command("recount")
    call_command("recount", "--check")
    assert total(tenant_a) == 1


@pytest.mark.skipif("connection.vendor != 'postgresql'")
def test_postgresql_counts_one_statement_per_write_statement(tenant_a, django_assert_num_queries):
    """The statement-level trigger adds no client round trip: one INSERT of 50 products is one query."""
    with django_assert_num_queries(1):
        Product.objects.bulk_create([Product(tenant=tenant_a, external_id=i, name="b") for i in range(1, 51)])
    assert total(tenant_a) == 50
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM catalog_productcount WHERE tenant_id = %s", [tenant_a.pk])
        assert cursor.fetchone()[0] == 1  # one counter row for the statement, not one upsert per row


# ---- list pages: constant queries whatever the page size and the shop's size -------------------------------


def _shop(tenant: Tenant, n: int) -> None:
    Product.objects.bulk_create([Product(tenant=tenant, external_id=i, name=f"p{i}") for i in range(1, n + 1)])


@pytest.fixture
def reader(api, keys_a):
    return api(keys_a.read.plaintext)


def _queries_of(client, path, expected: int, body=None):
    """The response of ``path`` after asserting it ran exactly ``expected`` queries of its own: the key's lookup
    (cached per process with Redis, read each time without it) is the request stack's, not the endpoint's."""
    call = (lambda: client.get(path)) if body is None else (lambda: client.post(path, body, format="json"))
    call()  # warm the caches
    with CaptureQueriesContext(connection) as ctx:
        response = call()
    own = [q["sql"] for q in ctx.captured_queries if '"apikeys_' not in q["sql"].split(" WHERE ")[0]]
    assert len(own) == expected, "\n\n".join(own)
    assert response.status_code == 200, response.content
    return response.json()


@pytest.mark.parametrize("size", [5, 60])
@pytest.mark.parametrize("query", ["per_page=2", "per_page=50", "per_page=50&page=2", "per_page=1000"])
def test_sortillus_list_queries_are_constant(reader, tenant_a, size, query, django_assert_num_queries):
    _shop(tenant_a, size)
    # the page (one statement: a deferred join) and the total (the counter)
    body = _queries_of(reader, f"/api/v3/products?{query}", 2)
    assert body["meta"]["total_count"] == size


@pytest.mark.parametrize("size", [5, 60])
@pytest.mark.parametrize("query", ["limit=2", "limit=50", "limit=2&page=2", "limit=100"])
def test_shopisync_list_queries_are_constant(reader, tenant_a, size, query, django_assert_num_queries):
    _shop(tenant_a, size)
    # the page (one statement: a deferred join), its competitors (prefetch) and the total (the counter)
    body = _queries_of(reader, f"/api/external/v1/products?{query}", 3)
    assert body["pagination"]["total"] == size


def test_sortillus_deep_page_is_the_right_slice(reader, tenant_a):
    _shop(tenant_a, 60)
    first = reader.get("/api/v3/products?per_page=7&page=1").json()["products"]
    third = reader.get("/api/v3/products?per_page=7&page=3").json()["products"]
    whole = reader.get("/api/v3/products?per_page=1000").json()["products"]
    assert [p["id"] for p in first + third] == [p["id"] for p in whole[:7] + whole[14:21]]


def test_shopisync_deep_page_is_the_right_slice(reader, tenant_a):
    _shop(tenant_a, 60)
    third = reader.get("/api/external/v1/products?limit=7&page=3").json()["data"]
    assert [p["id"] for p in third] == [str(i) for i in range(15, 22)] or [p["id"] for p in third] == list(
        range(15, 22)
    )


@pytest.mark.parametrize("collections", [2, 12])
def test_list_collections_queries_are_constant(dynasort, platform, tenant_a, collections, django_assert_num_queries):
    sync_products(platform, list(range(1, 11)))
    for c in range(1, collections + 1):
        sync_collection(platform, 100 + c, list(range(1, c % 10 + 2)))
    body = _queries_of(dynasort, "/api/v1/", 1, {"action": "list_collections"})
    counts = {c["id"]: c["product_count"] for c in body["data"]}
    assert counts == {100 + c: c % 10 + 1 for c in range(1, collections + 1)}


# ---- details: one statement each (Sortillus, ShopiSync) --------------------------------------------------


@pytest.fixture
def detailed(tenant_a):
    """A product with everything its detail bodies show: category, GTINs, recommendations, settings,
    competitors and price changes."""
    from catalog.models import Category, ProductGtin, Recommendation
    from pricing.models import Competitor, PriceChange, PricingSettings

    category = Category.objects.create(
        tenant=tenant_a, external_id=3, full_external_id="L1_3", name="c", en_name="c", en_description="c"
    )
    product = factories.product(tenant_a, external_id=1, category=category, gtin="04006381333931")
    factories.variant(product, price="12.50", cost="4.10")
    ProductGtin.objects.create(tenant=tenant_a, product=product, gtin="04006381333931", position=0)
    for i in range(2, 5):
        other = factories.product(tenant_a, external_id=i)
        Recommendation.objects.create(
            tenant=tenant_a, product=product, recommended=other, position=i, explanation=f"r{i}", reason_json={"k": i}
        )
    PricingSettings.objects.create(tenant=tenant_a, product=product, min_price="10.00", max_price="20.00")
    for name in ("b", "a"):
        Competitor.objects.create(tenant=tenant_a, product=product, name=name, current_price="11.99")
    for i in range(12):
        PriceChange.objects.create(
            tenant=tenant_a, product=product, old_price="10.00", new_price=f"1{i % 10}.00", reason="r", source="manual"
        )
    return product


def test_sortillus_detail_is_one_statement(reader, detailed):
    body = _queries_of(reader, "/api/v3/products/1", 1)
    assert [r["product_id"] for r in body["recommendations"]] == [2, 3, 4]
    assert body["recommendations"][0]["reason_json"] == {"k": 2}
    assert body["category_external_id"] == "L1_3" and body["gtin"] == "04006381333931"


def test_shopisync_detail_is_one_statement(reader, detailed):
    body = _queries_of(reader, "/api/external/v1/products/1", 1)["data"]
    assert [c["name"] for c in body["competitors"]] == ["a", "b"]
    assert body["competitors"][0]["currentPrice"] == "11.99"
    assert (body["currentPrice"], body["costPrice"], body["minPrice"]) == ("12.50", "4.10", "10.00")
    assert len(body["priceHistory"]) == 10


def test_details_of_another_tenants_product_are_not_found(api, keys_b, detailed):
    client = api(keys_b.read.plaintext)
    assert client.get("/api/v3/products/1").status_code == 404
    assert client.get("/api/external/v1/products/1").status_code == 404


def test_dynasort_get_product_is_one_statement(dynasort, detailed):
    from merchandising.models import OptionSortRule, ProductSetting

    option = factories.option(detailed, "Size", ["S", "M"], position=1)
    factories.option(detailed, "Color", ["Red"], position=2)
    OptionSortRule.objects.create(tenant=detailed.tenant, option=option, product=detailed, sort_type="sales")
    ProductSetting.objects.create(tenant=detailed.tenant, product=detailed, boost=7)
    body = _queries_of(dynasort, "/api/v1/", 1, {"action": "get_product", "product_id": 1})["data"]
    assert [o["name"] for o in body["options"]] == ["Size", "Color"]
    assert body["options"][0]["values"] == ["S", "M"] and body["options"][0]["sorting"]["sort_type"] == "sales"
    assert body["options"][1]["sorting"] is None and body["boost"] == 7
    assert body["variants"][0]["price"] == "12.50" and body["variants"][0]["cost"] == "4.10"
