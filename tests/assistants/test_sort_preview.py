"""sort_collection's platform extensions: dry_run previews, plan_id applies exactly the preview."""

from __future__ import annotations

import pytest

from catalog.models import DailySales
from merchandising.models import Collection, CollectionProduct, ProductSetting, SortRun
from tests.merchandising.conftest import call, error, ok

pytestmark = pytest.mark.django_db

CID = 123456789


def _assign(shop, enabled: bool = True) -> None:
    Collection.objects.filter(pk=shop.collection.pk).update(recipe=shop.recipe, enabled=enabled)


def _order(shop) -> list[int]:
    return list(
        CollectionProduct.objects.filter(collection=shop.collection)
        .order_by("position")
        .values_list("product__external_id", flat=True)
    )


def test_dry_run_shows_order_scores_and_moves_and_changes_nothing(dynasort, shop):
    _assign(shop)
    before = _order(shop)
    data = ok(call(dynasort, "sort_collection", collection_id=CID, dry_run=True))
    assert data["status"] == "preview" and data["plan_id"].startswith("plan_")
    # 123456789 and 1002 sold 9 units each, 1002 for more revenue (9 x 11.00 against 90.00); 1003 sold 5
    assert [p["product_id"] for p in data["products"]] == [1002, 123456789, 1003]
    assert data["moves"] == 1 and data["moved_product_ids"] == [1002] and data["product_count"] == 3
    top = data["products"][0]
    assert set(top["score_details"]) == {"sales", "revenue"}
    assert top["score"] == pytest.approx(sum(top["score_details"].values()) + top["boost"])
    assert data["recipe"]["weights"]["sales"] == 70.0 and data["recipe"]["days"] == "30"
    assert _order(shop) == before and not SortRun.objects.exists()


def test_dry_run_counts_the_fewest_moves_and_shows_boosts(dynasort, shop):
    _assign(shop)
    ProductSetting.objects.create(tenant=shop.collection.tenant, product=shop.products[2], boost=500)
    data = ok(call(dynasort, "sort_collection", collection_id=CID, dry_run=True))
    assert [p["product_id"] for p in data["products"]] == [1003, 1002, 123456789]
    assert data["moves"] == 2 and data["moved_product_ids"] == [1003, 1002]
    assert data["products"][0]["boost"] == 500 and data["products"][0]["current_position"] == 2


def test_apply_by_plan_id_writes_exactly_the_preview_and_explains_it(dynasort, shop):
    _assign(shop)
    ProductSetting.objects.create(tenant=shop.collection.tenant, product=shop.products[2], boost=500)
    preview = ok(call(dynasort, "sort_collection", collection_id=CID, dry_run=True))
    applied = ok(call(dynasort, "sort_collection", collection_id=CID, plan_id=preview["plan_id"]))
    assert applied["status"] == "applied" and applied["moves"] == 2 and applied["plan_id"] == preview["plan_id"]
    assert _order(shop) == [p["product_id"] for p in preview["products"]]
    detail = ok(call(dynasort, "get_collection", collection_id=CID))
    assert [p["score"] for p in detail["products"]] == [p["score"] for p in preview["products"]]
    explanation = detail["last_sort_explanation"]
    assert "Best sellers (30 days)" in explanation and "sales 70, revenue 30" in explanation
    assert "2 of 3 products moved" in explanation and preview["plan_id"] in explanation


@pytest.mark.parametrize(
    "change",
    ["boost", "sale", "membership", "recipe_weights", "order"],
)
def test_a_stale_plan_is_refused_and_changes_nothing(dynasort, shop, change):
    _assign(shop)
    plan_id = ok(call(dynasort, "sort_collection", collection_id=CID, dry_run=True))["plan_id"]
    tenant = shop.collection.tenant
    if change == "boost":
        ProductSetting.objects.create(tenant=tenant, product=shop.products[1], boost=1)
    elif change == "sale":
        DailySales.objects.filter(variant=shop.variants[2]).update(units=6)
    elif change == "membership":
        CollectionProduct.objects.filter(collection=shop.collection, product=shop.products[2]).delete()
    elif change == "recipe_weights":
        shop.recipe.weight_revenue = 31
        shop.recipe.save()
    else:
        CollectionProduct.objects.filter(collection=shop.collection, product=shop.products[0]).update(position=9)
    before = _order(shop)
    body = error(call(dynasort, "sort_collection", collection_id=CID, plan_id=plan_id), 400, "invalid_params")
    assert "changed since" in body["message"]
    assert _order(shop) == before and not SortRun.objects.exists()


def test_a_plan_of_another_collection_is_refused(dynasort, shop):
    _assign(shop)
    Collection.objects.filter(pk=shop.other_collection.pk).update(recipe=shop.recipe, enabled=True)
    plan_id = ok(call(dynasort, "sort_collection", collection_id=987654321, dry_run=True))["plan_id"]
    error(call(dynasort, "sort_collection", collection_id=CID, plan_id=plan_id), 400, "invalid_params")


@pytest.mark.parametrize(
    "params",
    [
        {"dry_run": "true"},
        {"dry_run": 1},
        {"plan_id": "plan_xyz"},
        {"plan_id": 5},
        {"dry_run": True, "plan_id": "plan_" + "0" * 40},
    ],
)
def test_bad_extension_params_are_invalid_params(dynasort, shop, params):
    _assign(shop)
    error(call(dynasort, "sort_collection", collection_id=CID, **params), 400, "invalid_params")


def test_dry_run_needs_a_recipe_but_not_enabled(dynasort, shop):
    error(call(dynasort, "sort_collection", collection_id=CID, dry_run=True), 400, "invalid_params")
    _assign(shop, enabled=False)
    data = ok(call(dynasort, "sort_collection", collection_id=CID, dry_run=True))
    assert data["enabled"] is False
    error(call(dynasort, "sort_collection", collection_id=CID, plan_id=data["plan_id"]), 400, "invalid_params")


def test_dry_run_is_a_read_for_the_limit_but_needs_write(api, keys_a, shop):
    _assign(shop)
    error(
        call(api(keys_a.read.plaintext), "sort_collection", collection_id=CID, dry_run=True), 403, "permission_denied"
    )


def test_plan_of_another_tenant_collection_is_not_found(api, keys_b, shop):
    response = call(api(keys_b.connector.plaintext), "sort_collection", collection_id=CID, dry_run=True)
    error(response, 404, "not_found")


def test_without_extensions_the_answer_is_unchanged(dynasort, shop):
    _assign(shop)
    data = ok(call(dynasort, "sort_collection", collection_id=CID))
    assert set(data) == {"collection_id", "status", "recipe", "queued_at"} and data["status"] == "queued"
