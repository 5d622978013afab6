"""Every Dynasort action with the doc's example body, and what it does."""

from __future__ import annotations

import pytest

from catalog.models import ProductOption
from merchandising.actions import ACTIONS
from merchandising.models import Collection, OptionSortRule, ProductSetting, SortRun
from tests.merchandising.conftest import DOC_PRODUCT_ID, call, ok, sales_recipe

pytestmark = pytest.mark.django_db

# The example bodies of specs/dynasort-connector-api.txt, verbatim.
DOC_EXAMPLES = {
    "list_collections": {},
    "get_collection": {"collection_id": 123456789},
    "enable_collection": {"collection_id": 123456789},
    "disable_collection": {"collection_id": 123456789},
    "update_collection": {"collection_id": 123456789, "metrics_id": 1, "revert_sorting": "best-selling"},
    "bulk_toggle_collections": {"collection_ids": [123456789, 987654321], "status": 1},
    "bulk_assign_recipe": {"collection_ids": [123456789, 987654321], "metrics_id": 1, "revert_sorting": "best-selling"},
    "sort_collection": {"collection_id": 123456789},
    "revert_collection": {"collection_id": 123456789},
    "list_recipes": {},
    "list_products": {},
    "get_product": {"product_id": 123456789},
    "set_product_boost": {"product_id": 123456789, "boost": 50},
    "enable_product": {
        "product_id": 123456789,
        "options": [
            {
                "option_id": 111,
                "option_name": "Color",
                "sort_type": "sales",
                "sold_out": "bottom",
                "direction": "desc",
                "days": "30",
            }
        ],
    },
    "disable_product": {"product_id": 123456789},
    "sort_product": {"product_id": 123456789},
}


def doc_body(name: str, recipe_id: int) -> dict:
    """The doc's example; metrics_id 1 becomes the id of a recipe of this shop (ids are per database)."""
    body = dict(DOC_EXAMPLES[name])
    if "metrics_id" in body:
        body["metrics_id"] = recipe_id
    return body


def test_registry_has_the_16_documented_actions_with_the_docs_examples():
    assert list(ACTIONS) == list(DOC_EXAMPLES)
    for name, action in ACTIONS.items():
        assert action.example == DOC_EXAMPLES[name], name


def test_list_collections(dynasort, shop):
    data = ok(call(dynasort, "list_collections"))
    assert [c["id"] for c in data] == [123456789, 987654321]
    assert data[0] == {
        "id": 123456789,
        "title": "C123456789",
        "handle": "",
        "enabled": False,
        "metrics_id": None,
        "recipe": None,
        "revert_sorting": None,
        "product_count": 3,
        "last_sorted_at": None,
        "sort_status": "idle",
        "sort_error": None,
    }


def test_list_collections_pages_by_since_id(dynasort, shop):
    data = ok(call(dynasort, "list_collections", since_id=123456789, limit=1))
    assert [c["id"] for c in data] == [987654321]


def test_list_collections_query_count_does_not_grow_with_page(dynasort, shop, tenant_a, django_assert_max_num_queries):
    for i in range(20):
        Collection.objects.create(tenant=tenant_a, external_id=10 + i, title=f"x{i}")
    with django_assert_max_num_queries(12):
        data = ok(call(dynasort, "list_collections"))
    assert len(data) == 22


def test_get_collection_lists_products_in_current_order(dynasort, shop):
    data = ok(call(dynasort, "get_collection", **DOC_EXAMPLES["get_collection"]))
    assert data["id"] == 123456789 and data["product_count"] == 3
    assert [(p["product_id"], p["position"]) for p in data["products"]] == [(DOC_PRODUCT_ID, 0), (1002, 1), (1003, 2)]


def test_get_collection_query_count_does_not_grow_with_page(dynasort, shop, django_assert_max_num_queries):
    with django_assert_max_num_queries(14):
        ok(call(dynasort, "get_collection", collection_id=123456789, limit=1))
    with django_assert_max_num_queries(14):
        ok(call(dynasort, "get_collection", collection_id=123456789, limit=1000))


def test_enable_collection(dynasort, shop):
    data = ok(call(dynasort, "enable_collection", **DOC_EXAMPLES["enable_collection"]))
    assert data["enabled"] is True
    shop.collection.refresh_from_db()
    assert shop.collection.enabled


def test_disable_collection_reverts_when_revert_order_set(dynasort, shop):
    Collection.objects.filter(pk=shop.collection.pk).update(enabled=True, revert_sorting="alpha-desc")
    data = ok(call(dynasort, "disable_collection", **DOC_EXAMPLES["disable_collection"]))
    assert data["enabled"] is False and data["reverted"]["method"] == "alpha-desc"
    order = list(shop.collection.memberships.order_by("position").values_list("product__name", flat=True))
    assert order == ["Item C", "Item B", "Item A"]


def test_disable_collection_without_revert_order_keeps_order(dynasort, shop):
    Collection.objects.filter(pk=shop.collection.pk).update(enabled=True)
    data = ok(call(dynasort, "disable_collection", collection_id=123456789))
    assert data["reverted"] is None
    assert not SortRun.objects.exists()


def test_update_collection(dynasort, shop):
    data = ok(call(dynasort, "update_collection", **doc_body("update_collection", shop.recipe.pk)))
    assert data["metrics_id"] == shop.recipe.pk and data["revert_sorting"] == "best-selling"
    assert data["recipe"] == {"id": shop.recipe.pk, "name": "Best sellers (30 days)"}


def test_update_collection_without_revert_sorting_keeps_it(dynasort, shop):
    Collection.objects.filter(pk=shop.collection.pk).update(revert_sorting="price-asc")
    data = ok(call(dynasort, "update_collection", collection_id=123456789, metrics_id=shop.recipe.pk))
    assert data["revert_sorting"] == "price-asc"


def test_bulk_toggle_collections(dynasort, shop):
    data = ok(call(dynasort, "bulk_toggle_collections", **DOC_EXAMPLES["bulk_toggle_collections"]))
    assert data["updated"] == 2
    assert set(Collection.objects.values_list("enabled", flat=True)) == {True}
    ok(call(dynasort, "bulk_toggle_collections", collection_ids=[123456789, 987654321], status=0))
    assert set(Collection.objects.values_list("enabled", flat=True)) == {False}


def test_bulk_assign_recipe(dynasort, shop):
    data = ok(call(dynasort, "bulk_assign_recipe", **doc_body("bulk_assign_recipe", shop.recipe.pk)))
    assert data["updated"] == 2
    assert set(Collection.objects.values_list("recipe_id", "revert_sorting")) == {(shop.recipe.pk, "best-selling")}


def test_sort_collection_queues_and_sorts(dynasort, shop, tenant_a, django_capture_on_commit_callbacks):
    recipe = sales_recipe(tenant_a)
    Collection.objects.filter(pk=shop.collection.pk).update(enabled=True, recipe=recipe)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        data = ok(call(dynasort, "sort_collection", **DOC_EXAMPLES["sort_collection"]))
    assert len(callbacks) == 1
    assert data["status"] == "queued" and data["recipe"]["id"] == recipe.pk
    products = ok(call(dynasort, "get_collection", collection_id=123456789))["products"]
    # units in the window: 123456789 sold 2 + 7 = 9, 1002 sold 9, 1003 sold 5; the tie goes to the newest
    assert [p["product_id"] for p in products] == [DOC_PRODUCT_ID, 1002, 1003]
    run = SortRun.objects.get()
    assert run.recipe == recipe and run.kind == "recipe"


def test_revert_collection(dynasort, shop):
    Collection.objects.filter(pk=shop.collection.pk).update(revert_sorting="alpha-asc")
    data = ok(call(dynasort, "revert_collection", **DOC_EXAMPLES["revert_collection"]))
    assert data["reverted"]["method"] == "alpha-asc"
    order = list(shop.collection.memberships.order_by("position").values_list("product__name", flat=True))
    assert order == ["Item A", "Item B", "Item C"]


def test_list_recipes_shows_weights_and_collections(dynasort, shop):
    Collection.objects.filter(pk=shop.collection.pk).update(recipe=shop.recipe)
    data = ok(call(dynasort, "list_recipes"))
    names = [r["name"] for r in data]
    assert names[:4] == ["Best sellers (30 days)", "Trending (7 days)", "New arrivals", "High margin"]
    best = data[0]
    assert best["id"] == shop.recipe.pk and best["collection_ids"] == [123456789] and best["collection_count"] == 1
    assert best["weights"] == {"sales": 70.0, "revenue": 30.0, "inventory": 0.0, "margin": 0.0, "newness": 0.0,
                               "discount": 0.0}  # fmt: skip


def test_list_products(dynasort, shop):
    data = ok(call(dynasort, "list_products"))
    assert [p["product_id"] for p in data] == [1002, 1003, DOC_PRODUCT_ID]
    color = data[2]["options"][0]
    assert color == {"option_id": 111, "name": "Color", "position": 1, "values": ["Red", "Blue"], "sorting": None}


def test_list_products_query_count_does_not_grow_with_page(dynasort, shop, django_assert_max_num_queries):
    with django_assert_max_num_queries(12):
        ok(call(dynasort, "list_products", limit=1))
    with django_assert_max_num_queries(12):
        ok(call(dynasort, "list_products", limit=250))


def test_get_product(dynasort, shop):
    data = ok(call(dynasort, "get_product", **DOC_EXAMPLES["get_product"]))
    assert data["product_id"] == DOC_PRODUCT_ID and data["boost"] == 0 and data["enabled"] is False
    assert [o["option_id"] for o in data["options"]] == [111, 112]
    assert {v["variant_id"] for v in data["variants"]} == {5001, 5010}


def test_set_product_boost(dynasort, shop):
    data = ok(call(dynasort, "set_product_boost", **DOC_EXAMPLES["set_product_boost"]))
    assert data == {"product_id": DOC_PRODUCT_ID, "boost": 50}
    assert ProductSetting.objects.get(product=shop.products[0]).boost == 50


def test_enable_product(dynasort, shop):
    data = ok(call(dynasort, "enable_product", **DOC_EXAMPLES["enable_product"]))
    assert data["enabled"] is True
    assert data["options"][0]["sorting"]["sort_type"] == "sales"
    rule = OptionSortRule.objects.get()
    assert (rule.option.external_id, rule.sold_out, rule.direction, rule.days) == (111, "bottom", "desc", "30")


def test_disable_product(dynasort, shop):
    ok(call(dynasort, "enable_product", **DOC_EXAMPLES["enable_product"]))
    data = ok(call(dynasort, "disable_product", **DOC_EXAMPLES["disable_product"]))
    assert data == {"product_id": DOC_PRODUCT_ID, "enabled": False}
    assert not ProductSetting.objects.get(product=shop.products[0]).option_sorting_enabled


def test_sort_product_reorders_option_values(dynasort, shop, django_capture_on_commit_callbacks):
    ok(call(dynasort, "enable_product", **DOC_EXAMPLES["enable_product"]))
    with django_capture_on_commit_callbacks(execute=True):
        data = ok(call(dynasort, "sort_product", **DOC_EXAMPLES["sort_product"]))
    assert data["status"] == "queued" and data["options"][0]["option_id"] == 111
    # Blue sold 7, Red 2 in the last 30 days
    assert ProductOption.objects.get(external_id=111).values == ["Blue", "Red"]
    rule = OptionSortRule.objects.get()
    assert rule.last_sorted_at is not None and rule.last_sort_method.startswith("sales desc")


def test_endpoint_without_trailing_slash_works_too(dynasort, shop):
    response = dynasort.post("/api/v1", {"action": "list_recipes"}, format="json")
    assert response.status_code == 200 and response.json()["success"] is True


def test_enable_product_answers_what_it_wrote_reading_the_product_once(
    dynasort, shop, tenant_a, django_assert_num_queries
):
    """The product is read once (then its options, the setting under lock, the rules, and savepoints: 15
    statements for a new setting and one new rule): the answer is built from
    what was written, and it is what list_products shows afterwards."""
    params = ACTIONS["enable_product"].params(data=DOC_EXAMPLES["enable_product"])
    params.is_valid(raise_exception=True)
    with django_assert_num_queries(15) as ctx:
        data = ACTIONS["enable_product"].handler(tenant_a, params.validated_data)
    assert sum('FROM "catalog_product"' in q["sql"] for q in ctx.captured_queries) == 1
    listed = ok(call(dynasort, "list_products"))
    assert data == next(p for p in listed if p["product_id"] == DOC_PRODUCT_ID)
