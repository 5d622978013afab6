"""Platform product sync writes: only what changed, a fixed number of statements, values stored exactly."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from catalog import index
from catalog.models import Product, ProductEmbedding, ProductGtin, ProductOption, Variant
from tests.catalog.test_platform_sync import gtin13, put, shopify_product

pytestmark = pytest.mark.django_db

WRITE = re.compile(r'^\s*(INSERT INTO|UPDATE|DELETE FROM)\s+"?(catalog_\w+)', re.IGNORECASE)


@pytest.fixture
def platform_w(keys_a):
    from tests.conftest import client_for

    return client_for(keys_a.write.plaintext)


def snapshot(tenant):
    return (
        list(Product.objects.filter(tenant=tenant).order_by("pk").values_list("pk", "updated_at", "gtin")),
        list(Variant.objects.filter(tenant=tenant).order_by("pk").values_list("pk", "updated_at", "price")),
        list(ProductOption.objects.filter(tenant=tenant).order_by("pk").values_list("pk", "name", "values")),
        list(ProductGtin.objects.filter(tenant=tenant).order_by("pk").values_list("pk", "gtin", "position")),
    )


def catalog_writes(queries) -> list[str]:
    return [m.group(2) for q in queries if (m := WRITE.match(q["sql"]))]


def test_identical_resync_writes_no_catalog_row(platform_w, tenant_a):
    items = [shopify_product(1), shopify_product(2), shopify_product(3, n_variants=1)]
    put(platform_w, items)
    before = snapshot(tenant_a)
    with CaptureQueriesContext(connection) as ctx:
        assert put(platform_w, items).json() == {
            "results": [{"index": i, "id": i + 1, "status": "updated"} for i in range(3)],
            "counts": {"created": 0, "updated": 3, "duplicate": 0, "rejected": 0},
        }
    assert catalog_writes(ctx.captured_queries) == []
    assert snapshot(tenant_a) == before  # no updated_at bumped, on products or variants


def test_a_changed_variant_bumps_only_its_own_updated_at(platform_w, tenant_a):
    put(platform_w, [shopify_product(1)])
    before = dict(Variant.objects.filter(tenant=tenant_a).values_list("external_id", "updated_at"))
    product_before = Product.objects.get(tenant=tenant_a, external_id=1).updated_at
    changed = shopify_product(1)
    changed["variants"][1]["inventory_quantity"] = 40
    put(platform_w, [changed])
    after = dict(Variant.objects.filter(tenant=tenant_a).values_list("external_id", "updated_at"))
    assert after[100] == before[100] and after[102] == before[102]
    assert after[101] > before[101]
    assert Variant.objects.get(tenant=tenant_a, external_id=101).inventory_quantity == 40
    assert Product.objects.get(tenant=tenant_a, external_id=1).updated_at == product_before


def test_omitted_created_at_keeps_the_stored_one(platform_w, tenant_a):
    put(platform_w, [shopify_product(1)])
    again = shopify_product(1)
    del again["created_at"]
    for v in again["variants"]:
        del v["created_at"]
    before = snapshot(tenant_a)
    put(platform_w, [again])
    assert snapshot(tenant_a) == before
    assert Product.objects.get(tenant=tenant_a, external_id=1).created_at.isoformat() == "2025-03-01T15:00:00+00:00"


def test_dropped_option_positions_and_variants_are_removed(platform_w, tenant_a):
    item = shopify_product(1)
    item["options"].append({"id": 11, "name": "Colour", "position": 2, "values": ["Red"]})
    put(platform_w, [item])
    assert ProductOption.objects.filter(tenant=tenant_a).count() == 2
    put(platform_w, [shopify_product(1, n_variants=1)])
    assert list(ProductOption.objects.filter(tenant=tenant_a).values_list("name", "values")) == [("Size", ["S"])]
    assert list(Variant.objects.filter(tenant=tenant_a).values_list("external_id", flat=True)) == [100]
    assert list(ProductGtin.objects.filter(tenant=tenant_a).values_list("gtin", flat=True)) == ["0" + gtin13(100)]


AWKWARD = "He said \"hi\" \\ {a,b} NULL, 'x' ünïcødé ✓"


def test_awkward_text_is_stored_exactly(platform_w, tenant_a):
    item = shopify_product(1, title=AWKWARD, body_html=AWKWARD * 3, tags=[AWKWARD, "NULL"], handle="NULL")
    item["options"][0]["values"] = [AWKWARD, '{"a": 1}', ""]
    item["variants"][0].update(sku=AWKWARD, option1="NULL", title="", compare_at_price=None, cost=None)
    assert put(platform_w, [item]).json()["results"] == [{"index": 0, "id": 1, "status": "created"}]
    product = Product.objects.get(tenant=tenant_a, external_id=1)
    assert (product.name, product.description, product.handle) == (AWKWARD, AWKWARD * 3, "NULL")
    assert product.tags == f"{AWKWARD}, NULL"
    assert ProductOption.objects.get(product=product).values == [AWKWARD, '{"a": 1}', ""]
    variant = Variant.objects.get(tenant=tenant_a, external_id=100)
    assert (variant.sku, variant.option1, variant.title) == (AWKWARD, "NULL", "")
    assert variant.compare_at_price is None and variant.cost is None and variant.price == Decimal("49.90")
    before = snapshot(tenant_a)
    put(platform_w, [item])
    assert snapshot(tenant_a) == before  # read back equal: nothing rewritten


@pytest.mark.parametrize(
    "values",
    [[AWKWARD, "", "NULL", "a,b", '"', "\\"], [AWKWARD, None, ""], [""], ["x" * 3, "{}"]],
)
def test_a_text_array_joined_in_one_pass_equals_the_value_by_value_literal(values):
    from catalog.models import Variant
    from core.bulk import pg_array, pg_quote

    by_value = "{" + ",".join("NULL" if v is None else pg_quote(v) for v in values) + "}"
    assert pg_array(values, Variant._meta.get_field("sku")) == by_value


def statements(queries) -> list[str]:
    """The statements of a call, an INSERT counted once per table (SQLite splits it under its parameter limit)."""
    out, inserted = [], set()
    for q in queries:
        m = WRITE.match(q["sql"])
        if m and m.group(1).upper() == "INSERT INTO" and connection.vendor != "postgresql":
            if m.group(2) in inserted:
                continue
            inserted.add(m.group(2))
        out.append(q["sql"][:40])
    return out


def test_query_count_does_not_grow_with_the_products(platform_w, tenant_a):
    put(platform_w, [])  # the key's first request reads it (then it is cached): not a cost of the sync
    counts = {}
    for n, first in ((10, 1), (100, 1001)):
        items = [shopify_product(i) for i in range(first, first + n)]
        with CaptureQueriesContext(connection) as created:
            assert put(platform_w, items).json()["counts"]["created"] == n
        for item in items:
            item["title"] += " (new)"
            item["variants"][0]["price"] = "1.00"
        with CaptureQueriesContext(connection) as updated:
            assert put(platform_w, items).json()["counts"]["updated"] == n
        with CaptureQueriesContext(connection) as same:
            put(platform_w, items)
        counts[n] = [len(statements(c.captured_queries)) for c in (created, updated, same)]
    assert counts[10] == counts[100], counts


def test_created_products_are_embedded_and_an_identical_resync_does_not_reembed(
    platform_w, tenant_a, eager_tasks, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):  # embedding is a task after the commit
        put(platform_w, [shopify_product(1), shopify_product(2)])
    vectors = dict(ProductEmbedding.objects.filter(tenant=tenant_a).values_list("product__external_id", "pk"))
    assert set(vectors) == {1, 2}
    with CaptureQueriesContext(connection) as ctx, django_capture_on_commit_callbacks(execute=True) as callbacks:
        put(platform_w, [shopify_product(1), shopify_product(2)])
    assert callbacks == []  # nothing written: no embedding task, no index change
    assert "catalog_productembedding" not in catalog_writes(ctx.captured_queries)


def test_a_barcode_moving_between_products_moves_the_duplicate_cluster(platform_w, tenant_a):
    put(platform_w, [shopify_product(1), shopify_product(2)])
    assert not Product.objects.filter(tenant=tenant_a, cluster__isnull=False).exists()
    two = shopify_product(2)
    two["variants"][0]["barcode"] = gtin13(100)  # product 1's first barcode
    put(platform_w, [two])
    one, other = (Product.objects.get(tenant=tenant_a, external_id=i) for i in (1, 2))
    assert one.cluster_id and one.cluster_id == other.cluster_id
    put(platform_w, [shopify_product(2)])  # back to its own barcodes: the cluster dissolves
    assert not Product.objects.filter(tenant=tenant_a, cluster__isnull=False).exists()


def test_the_index_is_told_which_products_changed(
    platform_w, tenant_a, monkeypatch, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False):
        put(platform_w, [shopify_product(1), shopify_product(2), shopify_product(3)])
    told = []
    monkeypatch.setattr(index, "products_changed", lambda tenant, ids=None: told.append(ids))
    two = shopify_product(2)
    two["variants"][0]["inventory_quantity"] += 5
    with django_capture_on_commit_callbacks(execute=True):
        put(platform_w, [shopify_product(1), two, shopify_product(3)])
    assert told == [[Product.objects.get(tenant=tenant_a, external_id=2).pk]]  # one product patched, no rebuild
