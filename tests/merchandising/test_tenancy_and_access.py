"""Tenant isolation for every action, permissions per action, and the 60/minute per-shop rate limit."""

from __future__ import annotations

import time

import pytest

from merchandising.actions import ACTIONS
from merchandising.models import Collection, Recipe
from tests.conftest import assert_cross_tenant, client_for
from tests.merchandising.conftest import ENDPOINT, call, error, ok
from tests.merchandising.test_actions import DOC_EXAMPLES
from tests.merchandising.test_bad_input import snapshot

pytestmark = pytest.mark.django_db

ID_ACTIONS = [name for name, body in DOC_EXAMPLES.items() if body]
LIST_ACTIONS = [name for name, body in DOC_EXAMPLES.items() if not body]


@pytest.mark.parametrize("action", ID_ACTIONS)
def test_other_tenants_ids_answer_not_found_and_change_nothing(api, shop, keys_b, action):
    """Tenant B's connector key naming tenant A's collections/products (with B's own recipe id)."""
    recipe_b = Recipe.objects.for_tenant(keys_b.connector.key.tenant).first()
    body = {"action": action, **DOC_EXAMPLES[action]}
    if "metrics_id" in body:
        body["metrics_id"] = recipe_b.pk
    before = snapshot()
    assert_cross_tenant("merchandising", api(keys_b.connector.plaintext), "post", ENDPOINT, body)
    assert snapshot() == before


@pytest.mark.parametrize("action", ["update_collection", "bulk_assign_recipe"])
def test_other_tenants_recipe_id_is_not_found(dynasort, shop, keys_b, action):
    recipe_b = Recipe.objects.for_tenant(keys_b.connector.key.tenant).first()
    body = {**DOC_EXAMPLES[action], "metrics_id": recipe_b.pk}
    error(call(dynasort, action, **body), 404, "not_found")
    assert Collection.objects.filter(recipe__isnull=False).count() == 0


@pytest.mark.parametrize("action", LIST_ACTIONS)
def test_lists_show_only_the_callers_rows(api, shop, keys_b, action):
    data = ok(call(api(keys_b.connector.plaintext), action))
    if action == "list_recipes":
        tenant_b = keys_b.connector.key.tenant
        assert {r["id"] for r in data} == set(Recipe.objects.for_tenant(tenant_b).values_list("pk", flat=True))
    else:
        assert data == []


READ_ONLY = {"list_collections", "get_collection", "list_recipes", "list_products", "get_product"}


def test_registry_permissions_read_only_actions_need_read_others_write():
    for name, action in ACTIONS.items():
        assert action.permission == ("read" if name in READ_ONLY else "write"), name


@pytest.mark.parametrize("action", sorted(set(DOC_EXAMPLES) - READ_ONLY))
def test_read_key_cannot_run_mutating_actions(api, shop, keys_a, action):
    body = dict(DOC_EXAMPLES[action])
    if "metrics_id" in body:
        body["metrics_id"] = shop.recipe.pk
    before = snapshot()
    error(call(api(keys_a.read.plaintext), action, **body), 403, "permission_denied")
    assert snapshot() == before


@pytest.mark.parametrize("action", sorted(READ_ONLY))
def test_read_key_runs_read_only_actions(api, shop, keys_a, action):
    ok(call(api(keys_a.read.plaintext), action, **DOC_EXAMPLES[action]))


def test_write_key_runs_mutating_actions(api, shop, keys_a):
    ok(call(api(keys_a.write.plaintext), "enable_collection", collection_id=123456789))


def test_missing_key_is_unauthorized(shop):
    error(call(client_for(None), "list_collections"), 401, "unauthorized")


def test_plan_without_api_access_is_permission_denied(api, tenant_a, make_key):
    tenant_a.plan = "starter"
    tenant_a.save()
    key = make_key(tenant_a, "admin")
    error(call(api(key.plaintext), "list_collections"), 403, "permission_denied")


def test_rate_limit_is_60_per_minute_per_shop_across_keys(api, shop, keys_a, keys_b):
    connector, read = api(keys_a.connector.plaintext), api(keys_a.read.plaintext)
    start = time.time()
    for i in range(60):
        response = call(connector if i % 2 else read, "list_recipes")
        assert response.status_code == 200
        assert response["X-RateLimit-Limit"] == "60"
        assert response["X-RateLimit-Remaining"] == str(59 - i)
        reset = int(response["X-RateLimit-Reset"])
        assert start < reset <= time.time() + 61  # a Unix timestamp within the minute
    refused = call(connector, "list_recipes")
    error(refused, 429, "rate_limited")
    assert int(refused["Retry-After"]) >= 1 and refused["X-RateLimit-Remaining"] == "0"
    error(call(read, "list_recipes"), 429, "rate_limited")
    # another shop has its own 60
    ok(call(api(keys_b.connector.plaintext), "list_recipes"))


def test_rate_limit_setting_is_shared_by_two_keys(api, shop, keys_a, settings):
    settings.MERCHANDISING_RATE_LIMIT = (3, 60)
    one, two = api(keys_a.connector.plaintext), api(keys_a.admin.plaintext)
    assert [call(c, "list_recipes").status_code for c in (one, two, one, two)] == [200, 200, 200, 429]
