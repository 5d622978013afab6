"""Category suggestions people can see and their lifecycle (issue 13): endpoints, refresh, sources, command."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from catalog import category_suggestions, index
from catalog.models import Category, Product
from tests import factories
from tests.catalog.conftest import make_category
from tests.conftest import assert_cross_tenant, assert_not_found, client_for

pytestmark = pytest.mark.django_db

TREE = {
    "Footwear": ["Running Shoes", "Boots"],
    "Kitchen": ["Cookware", "Coffee Mugs"],
}
PRODUCTS = {
    1: ("Trail running shoe with grippy sole", "Running Shoes"),
    2: ("Leather hiking boot, waterproof", "Boots"),
    3: ("Cast iron skillet 26 cm", "Cookware"),
    4: ("Ceramic coffee mug 350 ml", "Coffee Mugs"),
}


def post_taxonomy(sortillus) -> None:
    ext = 1
    for root, leaves in TREE.items():
        body = {"external_id": ext, "name": root, "en_name": root, "en_description": f"{root} products"}
        assert sortillus.post("/api/v3/shop/categories", {"category": body}, format="json").status_code == 201
        parent, ext = ext, ext + 1
        for leaf in leaves:
            body = {
                "external_id": ext,
                "name": leaf,
                "en_name": leaf,
                "en_description": leaf,
                "external_parent_id": parent,
            }
            assert sortillus.post("/api/v3/shop/categories", {"category": body}, format="json").status_code == 201
            ext += 1


@pytest.fixture
def shop_products(tenant_a):
    return {pid: factories.product(tenant_a, external_id=pid, name=name) for pid, (name, _) in PRODUCTS.items()}


def test_products_synced_before_the_taxonomy_get_suggestions_when_it_arrives(
    sortillus, tenant_a, shop_products, django_capture_on_commit_callbacks, eager_tasks
):
    assert all(p.category_suggestions == [] for p in shop_products.values())
    with django_capture_on_commit_callbacks(execute=True):
        post_taxonomy(sortillus)
    names = dict(Category.objects.for_tenant(tenant_a).values_list("pk", "name"))
    for pid, (_, leaf) in PRODUCTS.items():
        product = Product.objects.get(pk=shop_products[pid].pk)
        assert product.category_suggested_at is not None
        assert names[product.category_suggestions[0]["category_id"]] == leaf, product.name


def test_a_taxonomy_upload_queues_one_refresh(sortillus, tenant_a, shop_products, django_capture_on_commit_callbacks):
    queued = []
    from catalog import tasks

    original = tasks.category_suggestions_refresh.apply_async
    tasks.category_suggestions_refresh.apply_async = lambda args, **kw: queued.append((args, kw))
    try:
        with django_capture_on_commit_callbacks(execute=True):
            post_taxonomy(sortillus)
    finally:
        tasks.category_suggestions_refresh.apply_async = original
    assert queued == [((tenant_a.pk,), {"countdown": category_suggestions.REFRESH_DELAY})]


def test_the_refresh_waits_until_the_category_writes_stop(tenant_a, shop_products, monkeypatch):
    """A refresh that comes due while writes are still arriving puts itself off (one refresh after the burst,
    not one every few seconds against a half-posted taxonomy); once the writes are quiet it runs."""
    import time

    from django.core.cache import cache

    from catalog import tasks
    from config.celery import app

    queued = []
    monkeypatch.setattr(tasks.category_suggestions_refresh, "apply_async", lambda args, **kw: queued.append(kw))
    refreshed = []
    monkeypatch.setattr(
        category_suggestions, "category_suggestions_refresh", lambda **kw: refreshed.append(kw) or len(shop_products)
    )
    saved, app.conf.task_always_eager = app.conf.task_always_eager, False  # as with a worker: countdowns honoured
    try:
        cache.set(category_suggestions._last_write_key(tenant_a), time.time())  # a write just now
        assert category_suggestions.category_suggestions_refresh_pending(tenant_id=tenant_a.pk) == 0
        assert refreshed == [] and len(queued) == 1
        assert 1 <= queued[0]["countdown"] <= category_suggestions.REFRESH_DELAY
        quiet = time.time() - category_suggestions.REFRESH_DELAY - 1
        cache.set(category_suggestions._last_write_key(tenant_a), quiet)
        assert category_suggestions.category_suggestions_refresh_pending(tenant_id=tenant_a.pk) == len(shop_products)
        assert len(refreshed) == 1 and len(queued) == 1
    finally:
        app.conf.task_always_eager = saved


def test_a_merchant_category_is_never_overwritten(
    sortillus, tenant_a, shop_products, django_capture_on_commit_callbacks, eager_tasks
):
    with django_capture_on_commit_callbacks(execute=True):
        post_taxonomy(sortillus)
    mugs = Category.objects.get(tenant=tenant_a, name="Coffee Mugs")
    response = sortillus.patch("/api/v3/products/1", {"product": {"category_id": mugs.full_external_id}}, format="json")
    assert response.status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        body = {"external_id": 99, "name": "Sneakers", "en_name": "Sneakers", "en_description": "Running sneakers"}
        assert sortillus.post("/api/v3/shop/categories", {"category": body}, format="json").status_code == 201
        category_suggestions.category_suggestions_refresh(tenant=tenant_a, inline=True)
    product = Product.objects.get(pk=shop_products[1].pk)
    assert product.category_id == mugs.pk and product.category_source == "merchant"


def test_suggestions_endpoint_answers_the_documented_shape(platform, keys_a, tenant_a, shop_products):
    root = make_category(tenant_a, 1, "Kitchen")
    leaves = [make_category(tenant_a, 10 + i, name, parent=root) for i, name in enumerate(TREE["Kitchen"])]
    leaves += [make_category(tenant_a, 20 + i, name, parent=root) for i, name in enumerate(TREE["Footwear"])]
    category_suggestions.category_suggestions_compute(tenant_id=tenant_a.pk, product_ids=[shop_products[4].pk])
    reader = client_for(keys_a.read.plaintext)
    body = reader.get("/api/platform/v1/products/4/category-suggestions").json()
    assert set(body) == {"product_id", "assigned", "source", "suggestions"}
    assert body["product_id"] == 4
    assert len(body["suggestions"]) == 4  # every leaf (fewer than five)
    assert body["suggestions"][0] == {
        "full_external_id": "L2_11",
        "category_external_id": 11,
        "name": "Coffee Mugs",
        "score": body["suggestions"][0]["score"],
    }
    scores = [s["score"] for s in body["suggestions"]]
    assert scores == sorted(scores, reverse=True) and 0 < scores[0] <= 1
    assert (body["assigned"], body["source"]) in {("L2_11", "suggested"), (None, None)}


def test_suggestions_endpoint_shows_the_merchant_as_source(platform, tenant_a, shop_products):
    category = make_category(tenant_a, 5, "Boots")
    Product.objects.filter(pk=shop_products[2].pk).update(category=category, category_source="merchant")
    body = platform.get("/api/platform/v1/products/2/category-suggestions").json()
    assert body == {"product_id": 2, "assigned": "L1_5", "source": "merchant", "suggestions": []}


def test_suggestions_endpoint_unknown_product_is_not_found(platform, shop_products):
    assert_not_found("platform", platform.get("/api/platform/v1/products/999/category-suggestions"))


def test_suggestions_endpoint_is_tenant_scoped(keys_b, shop_products):
    assert_cross_tenant(
        "platform", client_for(keys_b.read.plaintext), "get", "/api/platform/v1/products/1/category-suggestions"
    )


def test_refresh_answers_202_with_the_products_queued(
    keys_a, tenant_a, shop_products, eager_tasks, django_capture_on_commit_callbacks
):
    make_category(tenant_a, 5, "Boots")
    Product.objects.filter(pk=shop_products[2].pk).update(
        category_id=Category.objects.get(tenant=tenant_a).pk, category_source="merchant"
    )
    writer = client_for(keys_a.write.plaintext)
    with django_capture_on_commit_callbacks(execute=True):
        response = writer.post("/api/platform/v1/catalog/category-suggestions/refresh")
    assert response.status_code == 202
    assert response.json() == {"queued": 3}  # product 2 is the merchant's
    assert Product.objects.filter(tenant=tenant_a, category_suggested_at__isnull=False).count() == 3


def test_refresh_needs_write_permission(keys_a, shop_products):
    response = client_for(keys_a.read.plaintext).post("/api/platform/v1/catalog/category-suggestions/refresh")
    assert response.status_code == 403
    assert not Product.objects.filter(category_suggested_at__isnull=False).exists()


def test_refresh_counts_only_the_callers_products(keys_b, shop_products, tenant_b):
    factories.product(tenant_b, name="Other shop's mug")
    response = client_for(keys_b.write.plaintext).post("/api/platform/v1/catalog/category-suggestions/refresh")
    assert response.status_code == 202 and response.json() == {"queued": 1}


def test_deleting_a_category_resuggests_its_products(
    tenant_a, shop_products, eager_tasks, django_capture_on_commit_callbacks
):
    root = make_category(tenant_a, 1, "Footwear")
    boots = make_category(tenant_a, 2, "Boots", parent=root)
    shoes = make_category(tenant_a, 3, "Running Shoes", parent=root)
    Product.objects.filter(pk=shop_products[1].pk).update(category=boots, category_source="merchant")
    with django_capture_on_commit_callbacks(execute=True):
        assert category_suggestions.category_delete(tenant=tenant_a, category=boots) == 1
    product = Product.objects.get(pk=shop_products[1].pk)
    assert product.category_source != "merchant"
    assert product.category_suggestions[0]["category_id"] == shoes.pk


def test_suggest_categories_command(tenant_a, shop_products):
    make_category(tenant_a, 1, "Coffee Mugs")
    make_category(tenant_a, 2, "Boots")
    out = io.StringIO()
    call_command("suggest_categories", "--tenant", tenant_a.domain, "--inline", stdout=out)
    assert f"{tenant_a.domain}: 4 product(s) suggested" in out.getvalue()
    mug = Product.objects.get(pk=shop_products[4].pk)
    assert mug.category_suggestions[0]["full_external_id"] == "L1_1"


def test_admin_product_page_shows_the_suggestions(admin_client, tenant_a, shop_products):
    make_category(tenant_a, 1, "Coffee Mugs")
    category_suggestions.category_suggestions_compute(tenant_id=tenant_a.pk, product_ids=[shop_products[4].pk])
    index._category_indexes.clear()
    page = admin_client.get(f"/admin/catalog/product/{shop_products[4].pk}/change/")
    assert page.status_code == 200
    assert b"L1_1 Coffee Mugs" in page.content
