"""PUT /api/platform/v1/collections, the connector prompt (endpoint, command, admin page),
and default recipes for new shops."""

from __future__ import annotations

import io

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command

from merchandising import services
from merchandising.actions import ACTIONS
from merchandising.models import Collection, CollectionProduct, Recipe
from merchandising.prompt import parameters
from tenants.services import tenant_create
from tests import factories
from tests.conftest import client_for

pytestmark = pytest.mark.django_db

SYNC = "/api/platform/v1/collections"
PROMPT = "/api/platform/v1/connector/prompt"


def members(external_id: int) -> list[int]:
    return list(
        CollectionProduct.objects.filter(collection__external_id=external_id)
        .order_by("position")
        .values_list("product__external_id", flat=True)
    )


@pytest.fixture
def products(tenant_a):
    return [factories.product(tenant_a, external_id=i) for i in (11, 12, 13)]


def test_sync_creates_then_updates_membership_in_the_given_order(platform, products):
    body = {"collections": [{"id": 7, "title": "Summer", "handle": "summer", "sort_order": "manual",
                             "product_ids": [12, 11]}]}  # fmt: skip
    response = platform.put(SYNC, body, format="json")
    assert response.status_code == 200, response.content
    assert response.json() == {
        "results": [{"index": 0, "id": 7, "status": "created"}],
        "counts": {"created": 1, "updated": 0, "duplicate": 0, "rejected": 0},
    }
    assert members(7) == [12, 11]
    body["collections"][0]["product_ids"] = [13, 12]
    body["collections"][0]["title"] = "Summer Sale"
    assert platform.put(SYNC, body, format="json").json()["results"] == [{"index": 0, "id": 7, "status": "updated"}]
    assert members(7) == [13, 12]
    assert Collection.objects.get(external_id=7).title == "Summer Sale"


def test_sync_refuses_bad_items_alone(platform, products):
    body = {
        "collections": [
            {"id": 7, "title": "ok", "product_ids": [11]},
            {"id": 8, "title": "unknown product", "product_ids": [11, 999]},
            {"id": "x", "title": "bad id"},
            {"id": 9},
        ]
    }
    data = platform.put(SYNC, body, format="json").json()
    assert [(r["index"], r["id"], r["status"]) for r in data["results"]] == [
        (0, 7, "created"),
        (1, 8, "rejected"),
        (2, "x", "rejected"),
        (3, 9, "rejected"),
    ]
    assert data["results"][1]["errors"] == {"product_ids": ["Unknown product ids: 999"]}
    assert list(data["results"][2]["errors"]) == ["id"] and list(data["results"][3]["errors"]) == ["title"]
    assert "errors" not in data["results"][0]
    assert data["counts"] == {"created": 1, "updated": 0, "duplicate": 0, "rejected": 3}
    assert list(Collection.objects.values_list("external_id", flat=True)) == [7]


@pytest.mark.parametrize("body", [{}, {"collections": []}, {"collections": "x"}, {"collections": [{}] * 1001}])
def test_sync_bad_envelope_is_400(platform, body):
    response = platform.put(SYNC, body, format="json")
    assert response.status_code == 400 and response.json()["code"] == "VALIDATION_ERROR"


def test_sync_needs_write_permission(api, keys_a):
    response = api(keys_a.read.plaintext).put(SYNC, {"collections": [{"id": 1, "title": "t"}]}, format="json")
    assert response.status_code == 403


def test_sync_cannot_use_other_tenants_products(api, keys_b, products):
    body = {"collections": [{"id": 7, "title": "t", "product_ids": [11]}]}
    data = api(keys_b.write.plaintext).put(SYNC, body, format="json").json()
    assert data["results"][0]["status"] == "rejected"
    assert not Collection.objects.exists()


def test_sync_of_same_id_by_two_tenants_keeps_them_apart(api, keys_a, keys_b, products):
    factories.product(keys_b.write.key.tenant, external_id=11)
    body = {"collections": [{"id": 7, "title": "t", "product_ids": [11]}]}
    api(keys_a.write.plaintext).put(SYNC, body, format="json")
    api(keys_b.write.plaintext).put(SYNC, body, format="json")
    assert Collection.objects.filter(external_id=7).count() == 2


def test_prompt_endpoint_lists_store_endpoint_auth_and_every_action(platform, tenant_a):
    response = platform.get(PROMPT)
    assert response.status_code == 200
    data = response.json()
    text = data["prompt"]
    assert data["endpoint"] == "http://testserver/api/v1/" and data["store_url"] == "https://shop-a.myshopify.com"
    assert "https://shop-a.myshopify.com" in text and "http://testserver/api/v1/" in text
    assert "Authorization: Bearer" in text and "dyn_sk_" in text
    for name, action in ACTIONS.items():
        assert f"{name}: {action.description}" in text
        for param, *_ in parameters(action):
            assert f"- {param} (" in text, (name, param)


def test_prompt_is_per_tenant(api, keys_b):
    text = api(keys_b.read.plaintext).get(PROMPT).json()["prompt"]
    assert "shop-b.myshopify.com" in text and "shop-a" not in text


def test_prompt_endpoint_needs_a_key():
    assert client_for(None).get(PROMPT).status_code == 401


def test_connector_prompt_command(tenant_a):
    out = io.StringIO()
    call_command("connector_prompt", "--tenant", "shop-a.myshopify.com", "--base-url", "https://x.example", stdout=out)
    assert "https://x.example/api/v1/" in out.getvalue() and "sort_product" in out.getvalue()


def test_admin_prompt_page_and_changelists(client, tenant_a, products):
    services.collections_sync(tenant=tenant_a, items=[{"id": 7, "title": "t", "product_ids": [11, 12]}])
    client.force_login(User.objects.create_superuser("staff", "s@example.com", "pw-long-enough-1"))
    page = client.get("/admin/merchandising/collection/connector-prompt/")
    assert page.status_code == 200 and b"list_collections" in page.content
    for url in ["collection", "recipe", "productsetting", "optionsortrule", "sortrun"]:
        assert client.get(f"/admin/merchandising/{url}/").status_code == 200, url
    collection = Collection.objects.get()
    detail = client.get(f"/admin/merchandising/collection/{collection.pk}/change/")
    assert detail.status_code == 200 and b"Product 11" in detail.content
    recipe = Recipe.objects.for_tenant(tenant_a).first()
    form = client.get(f"/admin/merchandising/recipe/{recipe.pk}/change/")
    assert b'name="weight_sales"' in form.content


def test_new_tenant_gets_default_recipes_once(db):
    tenant = tenant_create(domain="new.myshopify.com", name="New")
    names = set(Recipe.objects.for_tenant(tenant).values_list("name", flat=True))
    assert {"Best sellers (30 days)", "Trending (7 days)", "New arrivals", "High margin"} <= names
    assert services.recipes_ensure_defaults(tenant=tenant) == 0


def test_admin_sort_now_and_revert_now_actions(client, tenant_a, products, django_capture_on_commit_callbacks):
    services.collections_sync(tenant=tenant_a, items=[{"id": 7, "title": "t", "product_ids": [13, 11, 12]}])
    recipe = Recipe.objects.for_tenant(tenant_a).get(name="New arrivals")
    Collection.objects.filter(external_id=7).update(enabled=True, recipe=recipe, revert_sorting="alpha-asc")
    collection = Collection.objects.get(external_id=7)
    client.force_login(User.objects.create_superuser("staff", "s@example.com", "pw-long-enough-1"))
    url = "/admin/merchandising/collection/"
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"action": "sort_now", "_selected_action": [collection.pk]})
    assert response.status_code == 302
    assert collection.sort_runs.filter(kind="recipe").count() == 1
    client.post(url, {"action": "revert_now", "_selected_action": [collection.pk]})
    assert members(7) == [11, 12, 13]  # "Product 11", "Product 12", "Product 13"
