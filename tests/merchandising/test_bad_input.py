"""Bad input answers in the Dynasort envelope and changes nothing; bulk actions are all-or-nothing."""

from __future__ import annotations

import json

import pytest
from django.db.models import Model

from catalog.models import ProductOption
from merchandising.models import Collection, CollectionProduct, OptionSortRule, ProductSetting, SortRun
from tests.merchandising.conftest import ENDPOINT, call, error

pytestmark = pytest.mark.django_db


def snapshot() -> list:
    """Every merchandising row and option order, to compare before/after a refused request."""
    models: list[type[Model]] = [Collection, CollectionProduct, OptionSortRule, ProductSetting, SortRun]
    state = [sorted(map(str, m.objects.values_list())) for m in models]
    return [*state, sorted(map(str, ProductOption.objects.values_list("values")))]


@pytest.mark.parametrize(
    "body",
    [{}, {"collection_id": 1}, {"action": 5}, {"action": None}, {"action": ["list_recipes"]}, {"action": "nope"},
     {"action": "LIST_RECIPES"}, {"action": ""}],
)  # fmt: skip
def test_missing_wrong_type_or_unknown_action_is_invalid_action(dynasort, shop, body):
    error(dynasort.post(ENDPOINT, body, format="json"), 400, "invalid_action")


def test_body_that_is_not_an_object_is_invalid_action(dynasort, shop):
    response = dynasort.post(ENDPOINT, data=json.dumps([1, 2]), content_type="application/json")
    error(response, 400, "invalid_action")


def test_malformed_json_is_invalid_params(dynasort, shop):
    response = dynasort.post(ENDPOINT, data="{nope", content_type="application/json")
    error(response, 400, "invalid_params")


BAD = [
    ("get_collection", {}),
    ("get_collection", {"collection_id": "123456789"}),
    ("get_collection", {"collection_id": 1.5}),
    ("get_collection", {"collection_id": True}),
    ("get_collection", {"collection_id": -4}),
    ("get_collection", {"collection_id": 123456789, "limit": 5000}),
    ("enable_collection", {"collection_id": None}),
    ("disable_collection", {}),
    ("update_collection", {"collection_id": 123456789}),
    ("update_collection", {"collection_id": 123456789, "metrics_id": "1"}),
    ("update_collection", {"collection_id": 123456789, "metrics_id": "RECIPE", "revert_sorting": "random"}),
    ("update_collection", {"collection_id": 123456789, "metrics_id": "RECIPE", "revert_sorting": 1}),
    ("bulk_toggle_collections", {"collection_ids": [123456789]}),
    ("bulk_toggle_collections", {"collection_ids": [123456789], "status": 2}),
    ("bulk_toggle_collections", {"collection_ids": [123456789], "status": "1"}),
    ("bulk_toggle_collections", {"collection_ids": [123456789], "status": True}),
    ("bulk_toggle_collections", {"collection_ids": [], "status": 1}),
    ("bulk_toggle_collections", {"collection_ids": list(range(1, 10001)), "status": 1}),
    ("bulk_toggle_collections", {"collection_ids": 123456789, "status": 1}),
    ("bulk_toggle_collections", {"collection_ids": ["123456789"], "status": 1}),
    ("bulk_assign_recipe", {"collection_ids": [123456789]}),
    ("bulk_assign_recipe", {"collection_ids": [], "metrics_id": "RECIPE"}),
    ("bulk_assign_recipe", {"collection_ids": [123456789], "metrics_id": "RECIPE", "revert_sorting": "price"}),
    ("sort_collection", {"collection_id": "x"}),
    ("sort_collection", {"collection_id": 123456789}),  # not enabled, no recipe
    ("revert_collection", {"collection_id": 123456789}),  # no revert order set
    ("get_product", {}),
    ("get_product", {"product_id": "123456789"}),
    ("set_product_boost", {"product_id": 123456789}),
    ("set_product_boost", {"product_id": 123456789, "boost": "50"}),
    ("set_product_boost", {"product_id": 123456789, "boost": 2**31}),
    ("set_product_boost", {"product_id": 123456789, "boost": -(2**31) - 1}),
    ("set_product_boost", {"product_id": 123456789, "boost": 2.5}),
    ("enable_product", {"options": []}),
    ("enable_product", {"product_id": 123456789, "options": {"option_id": 111}}),
    ("enable_product", {"product_id": 123456789, "options": [{"option_id": 111, "option_name": "Color"}]}),
    ("enable_product", {"product_id": 123456789, "options": [{"option_name": "Color", "sort_type": "sales"}]}),
    ("enable_product", {"product_id": 123456789, "options": [{"option_id": 111, "sort_type": "sales"}]}),
    ("enable_product", {"product_id": 123456789, "options": [{"option_id": 111, "option_name": "Color",
                                                              "sort_type": "popularity"}]}),
    ("enable_product", {"product_id": 123456789, "options": [{"option_id": 111, "option_name": "Color",
                                                              "sort_type": "sales", "csv_pattern": "Red,Blue"}]}),
    ("enable_product", {"product_id": 123456789, "options": [{"option_id": 111, "option_name": "Color",
                                                              "sort_type": "comma_separated"}]}),
    ("enable_product", {"product_id": 123456789, "options": [{"option_id": 111, "option_name": "Color",
                                                              "sort_type": "sales", "sold_out": "middle"}]}),
    ("enable_product", {"product_id": 123456789, "options": [{"option_id": 111, "option_name": "Color",
                                                              "sort_type": "sales", "direction": "up"}]}),
    ("enable_product", {"product_id": 123456789, "options": [{"option_id": 111, "option_name": "Color",
                                                              "sort_type": "sales", "days": "14"}]}),
    ("enable_product", {"product_id": 123456789, "options": [{"option_id": 111, "option_name": "Color",
                                                              "sort_type": "common_sizes", "common_size": "mars"}]}),
    ("enable_product", {"product_id": 123456789, "options": [{"option_id": 999, "option_name": "Color",
                                                              "sort_type": "sales"}]}),
    ("enable_product", {"product_id": 123456789, "options": [{"option_id": 111, "option_name": "Size",
                                                              "sort_type": "sales"}]}),
    ("disable_product", {"product_id": []}),
    ("sort_product", {"product_id": 123456789}),  # not enabled
    ("list_collections", {"limit": 0}),
    ("list_products", {"limit": 251}),
]  # fmt: skip


@pytest.mark.parametrize(("action", "params"), BAD, ids=[f"{a}-{i}" for i, (a, _) in enumerate(BAD)])
def test_bad_params_are_invalid_params_and_change_nothing(dynasort, shop, action, params):
    params = {k: (shop.recipe.pk if v == "RECIPE" else v) for k, v in params.items()}
    before = snapshot()
    body = error(call(dynasort, action, **params), 400, "invalid_params")
    assert body["message"]
    assert snapshot() == before


NOT_FOUND = [
    ("get_collection", {"collection_id": 555}),
    ("enable_collection", {"collection_id": 555}),
    ("update_collection", {"collection_id": 123456789, "metrics_id": 999999}),
    ("update_collection", {"collection_id": 555, "metrics_id": "RECIPE"}),
    ("bulk_toggle_collections", {"collection_ids": [123456789, 555], "status": 1}),
    ("bulk_assign_recipe", {"collection_ids": [123456789, 555], "metrics_id": "RECIPE"}),
    ("bulk_assign_recipe", {"collection_ids": [123456789], "metrics_id": 999999}),
    ("get_product", {"product_id": 555}),
    ("set_product_boost", {"product_id": 555, "boost": 1}),
    ("enable_product", {"product_id": 555}),
    ("disable_product", {"product_id": 555}),
    ("sort_product", {"product_id": 555}),
]


@pytest.mark.parametrize(("action", "params"), NOT_FOUND, ids=[f"{a}-{i}" for i, (a, _) in enumerate(NOT_FOUND)])
def test_unknown_ids_are_not_found_and_bulk_changes_nothing(dynasort, shop, action, params):
    params = {k: (shop.recipe.pk if v == "RECIPE" else v) for k, v in params.items()}
    before = snapshot()
    error(call(dynasort, action, **params), 404, "not_found")
    assert snapshot() == before


def test_sort_collection_enabled_without_recipe_is_invalid_params(dynasort, shop):
    Collection.objects.filter(pk=shop.collection.pk).update(enabled=True)
    body = error(call(dynasort, "sort_collection", collection_id=123456789), 400, "invalid_params")
    assert "recipe" in body["message"]


@pytest.mark.parametrize("status", [0, 1])
def test_bulk_toggle_accepts_zero_and_one(dynasort, shop, status):
    call(dynasort, "bulk_toggle_collections", collection_ids=[123456789], status=status)
    assert Collection.objects.get(external_id=123456789).enabled is bool(status)
