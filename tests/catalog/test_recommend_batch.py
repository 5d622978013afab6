"""The batch path ("recommend all"): the same recommendations as one product at a time, stored in bulk by
chunk tasks that are safe to run twice, tenant-scoped, with a query count that does not grow with the chunk."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from catalog import index, recommendation_selectors, recommendation_services
from catalog.models import DuplicateCluster, Product, ProductState, Recommendation
from tests import factories
from tests.catalog.conftest import make_category
from tests.catalog.test_recommendations import build_catalog


def _catalog_with_edge_cases(tenant):
    """build_catalog plus a duplicate pair, an inactive and a draft product, an uncategorised and an unpriced one."""
    products, _, _ = build_catalog(tenant)
    cluster = DuplicateCluster.objects.create(tenant=tenant, canonical=products[5])
    Product.objects.filter(pk__in=[products[5].pk, products[6].pk]).update(cluster=cluster)
    Product.objects.filter(pk=products[7].pk).update(active=False)
    Product.objects.filter(pk=products[8].pk).update(status="draft")
    loose = factories.product(tenant, external_id=900, name="Northwind Classic Tee Red", brand="Northwind")
    factories.variant(loose, price="21")
    factories.product(tenant, external_id=901, name="Basecamp Wool Sock Blue", brand="Basecamp")  # no variant
    hats = make_category(tenant, 99, "Hats")  # fewer than 10 neighbours: filled from the whole catalogue
    for ext, name in ((902, "Northwind Wool Beanie Red"), (903, "Basecamp Sun Hat Navy")):
        factories.variant(factories.product(tenant, external_id=ext, name=name, brand=name.split()[0], category=hats))
    index.products_changed(tenant)
    return Product.objects.for_tenant(tenant).order_by("pk")


@pytest.mark.django_db
def test_batch_equals_compute_for_every_product(tenant_a, monkeypatch):
    products = list(_catalog_with_edge_cases(tenant_a))
    widths = []
    real = index.ProductIndex.similarities
    monkeypatch.setattr(
        index.ProductIndex,
        "similarities",
        lambda self, rows, cols=None: (
            widths.append(len(self.ids) if cols is None else len(cols)) or real(self, rows, cols)
        ),
    )
    batch = recommendation_selectors.recommendations_for(tenant_a, [p.pk for p in products])
    n = len(products)
    assert min(widths) < n and n in widths  # category blocks, and whole rows (uncategorised, the few Hats)
    assert set(batch) == {p.pk for p in products}
    kinds = set()
    for product in products:
        one = recommendation_selectors.compute(tenant_a, product)
        assert batch[product.pk] == one, product.name
        kinds |= {c.kind for c in one}
    assert kinds == {"same_model", "bundle", "complementary", "similar"}  # every branch was compared


@pytest.mark.django_db
def test_batch_equals_compute_across_blocks(tenant_a, monkeypatch):
    """Blocks of several sizes (one product per block, and blocks that cut the catalog unevenly)."""
    products = list(_catalog_with_edge_cases(tenant_a))
    ids = [p.pk for p in products]
    expected = {p.pk: recommendation_selectors.compute(tenant_a, p) for p in products}
    for block in (1, 7):
        monkeypatch.setattr(recommendation_selectors, "BLOCK", block)
        assert recommendation_selectors.recommendations_for(tenant_a, ids) == expected


@pytest.mark.django_db
def test_chunk_stores_the_lists_and_is_safe_to_run_twice(tenant_a):
    products = list(_catalog_with_edge_cases(tenant_a))
    ids = [p.pk for p in products]
    assert recommendation_services.recommendations_chunk_compute(tenant_id=tenant_a.pk, product_ids=ids) == len(ids)
    first = list(
        Recommendation.objects.order_by("product_id", "position").values_list(
            "product_id", "recommended_id", "position", "explanation"
        )
    )
    assert recommendation_services.recommendations_chunk_compute(tenant_id=tenant_a.pk, product_ids=ids) == len(ids)
    second = list(
        Recommendation.objects.order_by("product_id", "position").values_list(
            "product_id", "recommended_id", "position", "explanation"
        )
    )
    assert first == second and first
    target = products[0]
    stored = list(Recommendation.objects.filter(product=target).order_by("position"))
    one = recommendation_selectors.compute(tenant_a, target)
    assert [(r.recommended_id, r.explanation) for r in stored] == [(c.product_id, c.explanation) for c in one]
    assert set(stored[0].reason_json) == {"type", "source", "score", "evidence", "computed_at"}
    target.refresh_from_db()
    assert target.recommended_at is not None and target.state == ProductState.NEW  # no state change


@pytest.mark.django_db
def test_chunk_leaves_products_being_recommended_to_their_own_task(tenant_a):
    products = list(_catalog_with_edge_cases(tenant_a))
    busy = products[0]
    Product.objects.filter(pk=busy.pk).update(state=ProductState.RECOMMENDING)
    stored = recommendation_services.recommendations_chunk_compute(
        tenant_id=tenant_a.pk, product_ids=[p.pk for p in products]
    )
    assert stored == len(products) - 1
    assert not Recommendation.objects.filter(product=busy).exists()
    busy.refresh_from_db()
    assert busy.state == ProductState.RECOMMENDING and busy.recommended_at is None


@pytest.mark.django_db
def test_chunk_ignores_other_tenants_products(tenant_a, tenant_b):
    mine = list(_catalog_with_edge_cases(tenant_a))
    theirs = factories.product(tenant_b, external_id=1)
    factories.variant(theirs)
    stored = recommendation_services.recommendations_chunk_compute(
        tenant_id=tenant_a.pk, product_ids=[mine[0].pk, theirs.pk]
    )
    assert stored == 1
    assert not Recommendation.objects.filter(product=theirs).exists()
    assert not Recommendation.objects.filter(recommended__tenant=tenant_b).exists()


@pytest.mark.django_db
def test_chunk_queries_do_not_grow_with_the_chunk(tenant_a):
    products = list(_catalog_with_edge_cases(tenant_a))
    recommendation_selectors.recommendations_for(tenant_a, [products[0].pk])  # build the index and category statistics

    def queries(ids):
        with CaptureQueriesContext(connection) as ctx:
            recommendation_services.recommendations_chunk_compute(tenant_id=tenant_a.pk, product_ids=ids)
        return len(ctx.captured_queries)

    assert queries([p.pk for p in products[:5]]) == queries([p.pk for p in products])


@pytest.mark.django_db
def test_recommend_all_command_covers_every_active_product(
    tenant_a, tenant_b, eager_tasks, django_capture_on_commit_callbacks
):
    products = list(_catalog_with_edge_cases(tenant_a))
    other = factories.product(tenant_b, external_id=1)
    out = io.StringIO()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        call_command("recommend_all", "--tenant", tenant_a.domain, "--chunk-size", "10", stdout=out)
    assert len(callbacks) == 10 and "10 chunk(s)" in out.getvalue()  # 96 active products: one task per 10
    eligible = {p.pk for p in products if p.active and p.status == "active"}
    assert set(Recommendation.objects.values_list("product_id", flat=True).distinct()) <= eligible
    assert set(Product.objects.filter(recommended_at__isnull=False).values_list("pk", flat=True)) == eligible
    assert Product.objects.get(pk=other.pk).recommended_at is None


@pytest.mark.django_db
def test_recommend_all_command_refuses_an_unknown_tenant(db):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="No tenant"):
        call_command("recommend_all", "--tenant", "nobody.example")
