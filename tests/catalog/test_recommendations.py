"""Recommendations: the recommend endpoint, the state machine, the task (eager and in a live worker),
and the quality of the result on a generated catalog with known answers."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
from django.utils import timezone

from catalog import recommendation_selectors, recommendation_services, services
from catalog.models import DuplicateCluster, Product, ProductState, Recommendation
from tests import factories
from tests.catalog.conftest import make_category
from tests.celery_worker import wait_for
from tests.conftest import assert_cross_tenant, assert_not_found

COLOURS = ["Red", "Blue", "Black", "Green"]
LEAVES = {
    "Tops": ["Classic Tee", "Oxford Shirt", "Crew Sweater"],
    "Bottoms": ["Slim Jeans", "Chino Trousers", "Cargo Shorts"],
    "Shoes": ["Road Runner", "Canvas Sneaker", "Trail Runner"],
    "Socks": ["Ankle Sock", "Wool Sock", "Crew Sock"],
}
BRANDS = ["Northwind", "Basecamp"]


def build_catalog(tenant):
    """Products in same-model colour groups (3 siblings each) and 2 bundle partners each (bought together 4x).

    Returns (products by external id, expected relevant external ids per product).
    """
    rng = random.Random(7)
    cats = {name: make_category(tenant, 10 + i, name) for i, name in enumerate(LEAVES)}
    products, variants, groups = {}, {}, {}
    ext = 1
    for leaf, models in LEAVES.items():
        for model in models:
            for brand in BRANDS:
                for colour in COLOURS:
                    p = factories.product(
                        tenant,
                        external_id=ext,
                        name=f"{brand} {model} {colour}",
                        brand=brand,
                        description=f"{model} from {brand}, {leaf.lower()}",
                        category=cats[leaf],
                    )
                    variants[ext] = factories.variant(p, price=str(20 + rng.randint(0, 5)))
                    products[ext] = p
                    groups.setdefault((brand, model), []).append(ext)
                    ext += 1
    relevant = {e: {o for o in members if o != e} for members in groups.values() for e in members}
    # Bundles: in each leaf pair, product i is bought with partners i and i+1 of the other leaf, four times each.
    now = timezone.now()
    by_leaf = {leaf: [e for e, p in products.items() if p.category_id == cats[leaf].pk] for leaf in LEAVES}
    for a_leaf, b_leaf in (("Tops", "Bottoms"), ("Shoes", "Socks")):
        a, b = by_leaf[a_leaf], by_leaf[b_leaf]
        for i, left in enumerate(a):
            for right in (b[i], b[(i + 1) % len(b)]):
                for k in range(4):
                    at = now - timedelta(days=3 + k)
                    factories.order(tenant, [(variants[left], 1), (variants[right], 1)], at=at)
                relevant[left].add(right)
                relevant[right].add(left)
    # Noise: single-item orders and random pairs bought once.
    for _ in range(40):
        a, b = rng.sample(sorted(products), 2)
        factories.order(tenant, [(variants[a], 1), (variants[b], 1)], at=now - timedelta(days=rng.randint(1, 300)))
    return products, relevant, variants


@pytest.mark.django_db
def test_precision_at_5_on_a_generated_catalog(tenant_a):
    products, relevant, _ = build_catalog(tenant_a)
    sample = sorted(products)[::7]
    precisions = []
    for ext in sample:
        chosen = recommendation_selectors.compute(tenant_a, products[ext])
        top5 = [Product.objects.get(pk=c.product_id).external_id for c in chosen[:5]]
        precisions.append(len(set(top5) & relevant[ext]) / 5)
    assert sum(precisions) / len(precisions) >= 0.8, precisions


@pytest.mark.django_db
def test_same_model_and_bundles_are_explained(tenant_a):
    products, _, _ = build_catalog(tenant_a)
    top = products[1]  # Northwind Classic Tee Red: a Tops product with a bundle partner
    chosen = recommendation_selectors.compute(tenant_a, top)
    by_kind = {}
    for c in chosen:
        by_kind.setdefault(c.kind, []).append(c)
    assert {Product.objects.get(pk=c.product_id).name for c in by_kind["same_model"]} == {
        "Northwind Classic Tee Blue",
        "Northwind Classic Tee Black",
        "Northwind Classic Tee Green",
    }
    assert all(c.explanation == "Same model; different color." for c in by_kind["same_model"])
    bundle = by_kind["bundle"][0]
    assert bundle.explanation == "Bundle frequently bought together."
    assert bundle.evidence["co_count"] >= 4 and bundle.evidence["lift"] > 1
    assert all(c.explanation == "Similar product" and c.source == "embedding" for c in by_kind.get("similar", []))
    assert len(chosen) <= 10 and len({c.product_id for c in chosen}) == len(chosen)


@pytest.mark.django_db
def test_duplicates_inactive_and_draft_products_are_never_recommended(tenant_a):
    products, _, _ = build_catalog(tenant_a)
    target = products[1]
    cluster = DuplicateCluster.objects.create(tenant=tenant_a, canonical=target)
    Product.objects.filter(pk__in=[target.pk, products[2].pk]).update(cluster=cluster)
    Product.objects.filter(pk=products[3].pk).update(active=False)
    Product.objects.filter(pk=products[4].pk).update(status="draft")
    from catalog import index

    index.products_changed(tenant_a)
    chosen = {c.product_id for c in recommendation_selectors.compute(tenant_a, Product.objects.get(pk=target.pk))}
    assert not chosen & {target.pk, products[2].pk, products[3].pk, products[4].pk}
    assert chosen


# ---- the endpoint ------------------------------------------------------------------------------


@pytest.fixture
def catalog_a(tenant_a):
    return build_catalog(tenant_a)[0]


@pytest.mark.django_db
def test_recommend_returns_documented_body_and_task_completes(
    sortillus, catalog_a, django_capture_on_commit_callbacks, eager_tasks
):
    product = catalog_a[1]
    with django_capture_on_commit_callbacks(execute=True):
        response = sortillus.post(f"/api/v3/products/{product.pk}/recommend", format="json")
    assert response.status_code == 200
    assert response.json() == {
        "message": "Recommendation process triggered successfully",
        "product_id": product.pk,
        "external_id": 1,
        "state": "recommending_products",
    }
    product.refresh_from_db()
    assert product.state == ProductState.RECOMMENDED and product.recommended_at is not None
    assert [t.event for t in product.transitions.all()] == ["recommend", "recommendations_done"]
    body = sortillus.get("/api/v3/products/1").json()
    assert body["state"] == "recommended_products"
    assert body["recommended_at"] == product.recommended_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    recs = body["recommendations"]
    assert 0 < len(recs) <= 10
    external_ids = {p.external_id for p in catalog_a.values()}
    assert all(r["product_id"] in external_ids and r["product_id"] != 1 for r in recs)
    assert recs[0]["explanation"] == "Same model; different color."
    assert set(recs[0]["reason_json"]) == {"type", "source", "score", "evidence", "computed_at"}


@pytest.mark.django_db
def test_recommend_recomputes_replacing_old_recommendations(
    sortillus, catalog_a, django_capture_on_commit_callbacks, eager_tasks
):
    product = catalog_a[1]
    for _ in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            assert sortillus.post(f"/api/v3/products/{product.pk}/recommend").status_code == 200
    assert Recommendation.objects.filter(product=product).count() <= 10
    assert list(Recommendation.objects.filter(product=product).values_list("position", flat=True)) == list(
        range(Recommendation.objects.filter(product=product).count())
    )


@pytest.mark.django_db
def test_recommend_is_refused_when_the_shop_guard_is_off(sortillus, tenant_a):
    tenant_a.should_recommend_products = False
    tenant_a.save()
    product = factories.product(tenant_a, external_id=6)
    response = sortillus.post(f"/api/v3/products/{product.pk}/recommend")
    assert response.status_code == 422
    body = response.json()
    assert body["error"] == "Failed to trigger recommendations"
    assert "should_recommend_products" in body["message"]
    product.refresh_from_db()
    assert product.state == "new" and not product.transitions.exists()


@pytest.mark.django_db
def test_tenant_created_with_recommendations_off(db):
    from tenants.services import tenant_create

    assert tenant_create(domain="x.myshopify.com", name="X").should_recommend_products is True
    assert (
        tenant_create(domain="y.myshopify.com", name="Y", should_recommend_products=False).should_recommend_products
        is False
    )


@pytest.mark.django_db
def test_recommend_is_refused_while_recommending(sortillus, tenant_a):
    product = factories.product(tenant_a, external_id=6, state=ProductState.RECOMMENDING)
    response = sortillus.post(f"/api/v3/products/{product.pk}/recommend")
    assert response.status_code == 422
    assert response.json()["error"] == "Failed to trigger recommendations"
    assert "recommending_products" in response.json()["message"]


@pytest.mark.django_db
@pytest.mark.parametrize("state", ["new", "ready", "recommended_products", "error"])
def test_recommend_is_allowed_from_resting_states(sortillus, tenant_a, state):
    product = factories.product(tenant_a, external_id=6, state=state)
    assert sortillus.post(f"/api/v3/products/{product.pk}/recommend").json()["state"] == "recommending_products"


@pytest.mark.django_db
def test_recommend_uses_the_internal_id(sortillus, tenant_a):
    product = factories.product(tenant_a, external_id=987654)
    assert_not_found("catalog", sortillus.post("/api/v3/products/987654/recommend"))
    assert sortillus.post(f"/api/v3/products/{product.pk}/recommend").status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path", ["/api/v3/products/999999/recommend", "/api/v3/products/99999999999999999999/recommend"]
)
def test_recommend_unknown_product_is_404(sortillus, tenant_a, path):
    response = sortillus.post(path)
    assert response.status_code == 404 and response.json() == {"error": "Product not found"}


@pytest.mark.django_db
def test_recommend_without_key_is_401(api, tenant_a):
    product = factories.product(tenant_a)
    response = api(None).post(f"/api/v3/products/{product.pk}/recommend")
    assert response.status_code == 401 and response.json() == {"error": "Invalid access token"}


@pytest.mark.django_db
def test_recommend_needs_write_key(reader, tenant_a):
    product = factories.product(tenant_a)
    assert reader.post(f"/api/v3/products/{product.pk}/recommend").status_code == 403
    product.refresh_from_db()
    assert product.state == "new"


@pytest.mark.django_db
def test_recommend_cross_tenant_is_not_found(sortillus_b, tenant_a):
    product = factories.product(tenant_a)
    assert_cross_tenant("catalog", sortillus_b, "post", f"/api/v3/products/{product.pk}/recommend")
    product.refresh_from_db()
    assert product.state == "new"


@pytest.mark.django_db
def test_failed_computation_leaves_the_product_in_error_with_the_reason(
    sortillus, tenant_a, monkeypatch, django_capture_on_commit_callbacks, eager_tasks
):
    product = factories.product(tenant_a, external_id=6)

    def broken(*args, **kwargs):
        raise RuntimeError("embedding index unavailable")

    monkeypatch.setattr(recommendation_selectors, "compute", broken)
    with django_capture_on_commit_callbacks(execute=True):
        assert sortillus.post(f"/api/v3/products/{product.pk}/recommend").status_code == 200
    product.refresh_from_db()
    assert product.state == "error"
    assert "embedding index unavailable" in product.last_error
    assert product.transitions.last().to_state == "error"
    assert sortillus.get("/api/v3/products/6").json()["state"] == "error"


@pytest.mark.django_db
def test_compute_task_is_idempotent(tenant_a):
    product = factories.product(tenant_a, external_id=6)
    assert recommendation_services.product_recommendations_compute(product_id=product.pk) is False  # not recommending
    services.product_recommend_start(tenant=tenant_a, product=product)
    assert recommendation_services.product_recommendations_compute(product_id=product.pk) is True
    assert recommendation_services.product_recommendations_compute(product_id=product.pk) is False


def test_recommendations_are_computed_in_a_live_worker(live_celery_worker, keys_a, api, tenant_a):
    products, _, _ = build_catalog(tenant_a)
    client = api(keys_a.write.plaintext)
    target = products[1]
    assert client.post(f"/api/v3/products/{target.pk}/recommend").status_code == 200
    assert wait_for(lambda: Product.objects.get(pk=target.pk).state == "recommended_products", timeout=60)
    body = client.get("/api/v3/products/1").json()
    assert body["recommendations"] and body["recommended_at"]
