"""The product index after a write: only the written products are reloaded, and the result is the index a
full build gives (bit for bit); writes that do not name their products, or too many, rebuild."""

from __future__ import annotations

import numpy as np
import pytest

from catalog import index, services
from catalog.models import DuplicateCluster, Product, Variant
from tests import factories
from tests.catalog.test_recommendations import build_catalog


def assert_same_index(a: index.ProductIndex, b: index.ProductIndex) -> None:
    for name in ("ids", "external_ids", "eligible", "cluster", "category", "price", "raw", "matrix", "idf"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name, strict=True)
    assert a.keys == b.keys and a.row_of == b.row_of and a.by_model == b.by_model
    assert a.category_rows.keys() == b.category_rows.keys()
    for key in a.category_rows:
        np.testing.assert_array_equal(a.category_rows[key], b.category_rows[key])


def fresh(tenant) -> index.ProductIndex:
    return index._assemble(index._load_rows(tenant), 0)


@pytest.fixture
def built(tenant_a):
    products, _, variants = build_catalog(tenant_a)
    index.product_index(tenant_a)
    return products, variants


@pytest.fixture
def no_rebuild(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("the index was rebuilt instead of updated")

    monkeypatch.setattr(index, "_build_product_index", refuse)


@pytest.mark.django_db
def test_a_written_product_is_reloaded_alone(tenant_a, built, monkeypatch):
    products, variants = built
    target = products[3]
    Product.objects.filter(pk=target.pk).update(name="Northwind Wool Parka Red", status="draft")
    Variant.objects.filter(pk=variants[3].pk).update(price="99.00")
    index.embeddings_refresh(tenant=tenant_a, product_ids=[target.pk])
    expected = fresh(tenant_a)
    loaded = []
    real = index._load_rows
    monkeypatch.setattr(index, "_load_rows", lambda t, ids=None: loaded.append(ids) or real(t, ids))
    monkeypatch.setattr(index, "_build_product_index", lambda *a: pytest.fail("rebuilt"))
    index.products_changed(tenant_a, [target.pk])
    updated = index.product_index(tenant_a)
    assert loaded == [[target.pk]]
    assert_same_index(updated, expected)
    row = updated.row_of[target.pk]
    assert not updated.eligible[row] and updated.price[row] == 99.0


@pytest.mark.django_db
def test_a_write_that_keeps_the_vector_patches_the_rows(tenant_a, built, no_rebuild, monkeypatch):
    products, variants = built
    before = index.product_index(tenant_a)
    cluster = DuplicateCluster.objects.create(tenant=tenant_a, canonical=products[3])
    Product.objects.filter(pk=products[3].pk).update(status="archived", cluster=cluster)
    Variant.objects.filter(pk=variants[4].pk).update(price="7.50")
    monkeypatch.setattr(index, "_assemble", lambda *a: pytest.fail("re-weighed"))
    index.products_changed(tenant_a, [products[3].pk, products[4].pk])
    updated = index.product_index(tenant_a)
    assert updated.matrix is before.matrix  # the vectors were kept, not recomputed
    monkeypatch.undo()
    assert_same_index(updated, fresh(tenant_a))
    assert not updated.eligible[updated.row_of[products[3].pk]] and before.eligible[before.row_of[products[3].pk]]
    assert updated.price[updated.row_of[products[4].pk]] == 7.5


@pytest.mark.django_db
def test_created_and_deleted_products_are_added_and_dropped(tenant_a, built, no_rebuild):
    products, _ = built
    gone = products[5].pk
    Product.objects.filter(pk=gone).delete()
    new = factories.product(tenant_a, external_id=500, name="Basecamp Trail Runner Navy", brand="Basecamp")
    factories.variant(new, price="23")
    index.products_changed(tenant_a, [gone])
    index.products_changed(tenant_a, [new.pk])  # two versions behind: both deltas apply
    updated = index.product_index(tenant_a)
    assert gone not in updated.row_of and new.pk in updated.row_of
    assert_same_index(updated, fresh(tenant_a))


@pytest.mark.django_db
def test_service_writes_name_their_product(tenant_a, built, no_rebuild, django_capture_on_commit_callbacks):
    products, _ = built
    with django_capture_on_commit_callbacks(execute=True):
        services.product_update(tenant=tenant_a, product=products[2], fields={"name": "Northwind Classic Tee Teal"})
    updated = index.product_index(tenant_a)
    assert updated.keys[updated.row_of[products[2].pk]].colours == frozenset({"teal"})
    assert_same_index(updated, fresh(tenant_a))


@pytest.mark.django_db
@pytest.mark.parametrize("how", ["unnamed", "expired", "too_many"])
def test_a_write_without_a_usable_delta_rebuilds(tenant_a, built, monkeypatch, how):
    products, _ = built
    ids = [products[1].pk]
    if how == "unnamed":
        ids = None
    elif how == "too_many":
        ids = [p.pk for p in products.values()]
    Product.objects.filter(pk=products[1].pk).update(name="Renamed")
    index.products_changed(tenant_a, ids)
    if how == "expired":
        index.cache.delete(index._delta_key(tenant_a, index._version("product", tenant_a)))
    rebuilt = []
    real = index._build_product_index
    monkeypatch.setattr(index, "_build_product_index", lambda *a: rebuilt.append(1) or real(*a))
    updated = index.product_index(tenant_a)
    assert rebuilt == [1]
    assert updated.keys[updated.row_of[products[1].pk]].key == "northwind|renamed"


@pytest.mark.django_db
def test_a_category_change_rebuilds(tenant_a, built, monkeypatch):
    index.categories_changed(tenant_a)
    rebuilt = []
    real = index._build_product_index
    monkeypatch.setattr(index, "_build_product_index", lambda *a: rebuilt.append(1) or real(*a))
    index.product_index(tenant_a)
    assert rebuilt == [1]


@pytest.mark.django_db
def test_the_delta_reads_only_the_written_products(tenant_a, built, django_assert_max_num_queries):
    products, _ = built
    Product.objects.filter(pk=products[1].pk).update(brand="Other")
    index.products_changed(tenant_a, [products[1].pk])
    # embeddings check (products, existing vectors), the product rows, their vectors
    with django_assert_max_num_queries(4) as ctx:
        index.product_index(tenant_a)
    assert all(str(products[1].pk) in q["sql"] for q in ctx.captured_queries)
