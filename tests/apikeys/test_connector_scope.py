"""Connector keys (dyn_sk_) serve the Dynasort connector only, and can be read-only (issue 12 item 8,
issue 15 item 3). Key management needs an sk_live_ admin key; revoking a key lists the keys it made."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from apikeys import tokens
from apikeys.models import ApiKey, ApiKeyEvent
from apikeys.permissions import Permission
from apikeys.services import api_key_create
from apikeys.tokens import KeyKind
from catalog.models import Product
from merchandising.actions import ACTIONS
from merchandising.models import ProductSetting
from tests import factories
from tests.conftest import client_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def platform(make_key, tenant_a):
    """An sk_live_ admin key of a shop with no connector key yet."""
    return client_for(make_key(tenant_a, "admin").plaintext)


READ_ACTIONS = sorted(name for name, a in ACTIONS.items() if a.permission == Permission.READ)
WRITE_ACTIONS = sorted(name for name, a in ACTIONS.items() if a.permission != Permission.READ)

# One read and one write operation on each surface a connector key must not reach.
NON_DYNASORT = [
    ("catalog", "get", "/api/v3/products", None),
    ("catalog", "post", "/api/v3/products", {"product": {"id": 1, "title": "x"}}),
    ("pricing", "get", "/api/external/v1/products", None),
    ("pricing", "put", "/api/external/v1/products/1", {"min_price": 1}),
    ("platform", "get", "/api/platform/v1/keys", None),
    ("platform", "post", "/api/platform/v1/keys", {"name": "minted", "permission": "admin"}),
    ("platform", "post", "/api/platform/v1/products", {"products": []}),
    ("platform", "get", "/api/platform/v1/connector/prompt", None),
]


def test_the_registry_has_the_five_documented_read_actions():
    assert READ_ACTIONS == ["get_collection", "get_product", "list_collections", "list_products", "list_recipes"]


@pytest.mark.parametrize("permission", ["read", "write"])
@pytest.mark.parametrize(("surface", "method", "path", "body"), NON_DYNASORT)
def test_connector_key_is_refused_outside_dynasort_in_the_surface_form(
    surface, method, path, body, permission, make_key, tenant_a
):
    connector = make_key(tenant_a, permission, kind=KeyKind.CONNECTOR)
    keys_before, products_before = ApiKey.objects.count(), Product.objects.count()
    response = getattr(client_for(connector.plaintext), method)(path, body, format="json")
    assert response.status_code == 403, response.content
    body = response.json()
    if surface == "catalog":
        assert body == {"error": body["error"]} and "connector" in body["error"]
    else:
        assert body["code"] == "INSUFFICIENT_PERMISSIONS" and "sk_live_" in body["error"]
    assert (ApiKey.objects.count(), Product.objects.count()) == (keys_before, products_before)


def test_a_refused_connector_key_consumes_no_rate_limit(make_key, tenant_a, settings):
    connector = make_key(tenant_a, "write", kind=KeyKind.CONNECTOR)
    client = client_for(connector.plaintext)
    for _ in range(3):
        assert client.get("/api/v3/products").status_code == 403
    response = client.post("/api/v1/", {"action": "list_recipes"}, format="json")
    assert response.status_code == 200
    assert response["X-RateLimit-Remaining"] == str(settings.MERCHANDISING_RATE_LIMIT[0] - 1)


def test_sk_live_keys_still_pass_every_surface(keys_a):
    client = client_for(keys_a.admin.plaintext)
    assert client.get("/api/v3/products").status_code == 200
    assert client.get("/api/external/v1/products").status_code == 200
    assert client.get("/api/platform/v1/keys").status_code == 200
    assert client.post("/api/v1/", {"action": "list_recipes"}, format="json").status_code == 200


@pytest.mark.parametrize("action", READ_ACTIONS)
def test_read_only_connector_key_runs_the_read_actions(action, make_key, tenant_a):
    connector = make_key(tenant_a, "read", kind=KeyKind.CONNECTOR)
    response = client_for(connector.plaintext).post("/api/v1/", ACTIONS[action].example_body, format="json")
    # the examples name ids the shop does not have: found-or-not, the key was let through
    assert response.status_code in (200, 404), response.content
    assert response.json().get("code") != "permission_denied"


@pytest.mark.parametrize("action", WRITE_ACTIONS)
def test_read_only_connector_key_is_refused_every_write_action(action, make_key, tenant_a):
    connector = make_key(tenant_a, "read", kind=KeyKind.CONNECTOR)
    response = client_for(connector.plaintext).post("/api/v1/", ACTIONS[action].example_body, format="json")
    assert response.status_code == 403, response.content
    assert response.json() == {"error": True, "message": response.json()["message"], "code": "permission_denied"}
    assert "'write'" in response.json()["message"]


def test_read_only_connector_key_changes_nothing(make_key, tenant_a):
    product = factories.product(tenant_a)
    read_only = client_for(make_key(tenant_a, "read", kind=KeyKind.CONNECTOR).plaintext)
    body = {"action": "set_product_boost", "product_id": product.external_id, "boost": 50}
    assert read_only.post("/api/v1/", body, format="json").status_code == 403
    assert not ProductSetting.objects.filter(product=product).exclude(boost=0).exists()
    got = read_only.post("/api/v1/", {"action": "get_product", "product_id": product.external_id}, format="json")
    assert got.status_code == 200, got.content
    assert got.json()["data"]["boost"] == 0


@pytest.mark.parametrize("permission", ["read", "write"])
def test_keys_api_creates_a_connector_key_of_either_permission(permission, platform, tenant_a):
    response = platform.post(
        "/api/platform/v1/keys", {"name": "assistant", "kind": "connector", "permission": permission}, format="json"
    )
    assert response.status_code == 201, response.content
    assert (response.json()["kind"], response.json()["permission"]) == ("connector", permission)
    assert response.json()["key"].startswith("dyn_sk_")


def test_keys_api_connector_key_is_read_only_unless_asked(platform, tenant_a):
    response = platform.post("/api/platform/v1/keys", {"name": "assistant", "kind": "connector"}, format="json")
    assert response.status_code == 201
    assert response.json()["permission"] == "read"


def test_keys_api_refuses_an_admin_connector_key(platform, tenant_a):
    response = platform.post(
        "/api/platform/v1/keys", {"name": "assistant", "kind": "connector", "permission": "admin"}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["code"] == "VALIDATION_ERROR" and "permission" in response.json()["details"]
    assert not ApiKey.objects.filter(tenant=tenant_a, kind=KeyKind.CONNECTOR).exists()
    assert ApiKey.objects.filter(tenant=tenant_a).count() == 1


def test_a_read_only_connector_key_counts_as_the_one_active_connector_key(platform, tenant_a):
    first = platform.post("/api/platform/v1/keys", {"name": "a", "kind": "connector"}, format="json")
    assert first.status_code == 201
    second = platform.post(
        "/api/platform/v1/keys", {"name": "b", "kind": "connector", "permission": "write"}, format="json"
    )
    assert second.status_code == 409


def test_a_connector_key_cannot_become_admin(tenant_a):
    from apikeys.exceptions import ValidationFailed
    from apikeys.services import api_key_update

    issued = api_key_create(tenant=tenant_a, name="c", kind=KeyKind.CONNECTOR, permission="read")
    api_key_update(key=issued.key, permission="write")
    with pytest.raises(ValidationFailed):
        api_key_update(key=issued.key, permission="admin")
    issued.key.refresh_from_db()
    assert issued.key.permission == "write"


def test_create_api_key_command_makes_a_read_only_connector_key(capsys, tenant_a):
    call_command("create_api_key", "--tenant", tenant_a.domain, "--name", "c", "--connector", "--permission", "read")
    plaintext = capsys.readouterr().out.strip().splitlines()[-1]
    key = ApiKey.objects.get(key_hash=tokens.digest(plaintext))
    assert (key.kind, key.permission) == ("connector", "read")


def test_create_api_key_command_refuses_an_admin_connector_key(tenant_a):
    with pytest.raises(CommandError, match="read or write"):
        call_command(
            "create_api_key", "--tenant", tenant_a.domain, "--name", "c", "--connector", "--permission", "admin"
        )
    assert not ApiKey.objects.filter(tenant=tenant_a).exists()


def test_keys_created_through_the_api_record_their_creator_and_its_revocation_lists_them(keys_a):
    admin = client_for(keys_a.admin.plaintext)
    made = admin.post("/api/platform/v1/keys", {"name": "made", "permission": "admin"}, format="json").json()
    rotated = admin.post(f"/api/platform/v1/keys/{keys_a.read.key.pk}/rotate", {}, format="json").json()
    assert made["created_by_key"] == keys_a.admin.key.pk
    assert ApiKey.objects.get(pk=rotated["id"]).created_by_key_id == keys_a.admin.key.pk

    other = client_for(made["key"])
    revoked = other.post(f"/api/platform/v1/keys/{keys_a.admin.key.pk}/revoke", {"reason": "leaked"}, format="json")
    assert revoked.status_code == 200
    event = ApiKeyEvent.objects.get(key=keys_a.admin.key, type="revoked")
    listed = event.details["created_keys"]
    assert [k["id"] for k in listed] == [made["id"], rotated["id"]]
    assert listed[0] == {
        "id": made["id"],
        "key": f"{made['prefix']}…{made['last_four']}",
        "name": "made",
        "permission": "admin",
        "status": "active",
    }
    # the keys it made stay usable (they may be in use); the audit entry says which to look at
    assert other.get("/api/platform/v1/keys").status_code == 200


def test_admin_creates_a_read_only_connector_key_and_refuses_an_admin_one(tenant_a, client):
    from django.contrib.auth import get_user_model

    client.force_login(get_user_model().objects.create_superuser("staff", "s@example.com", "pw-not-used-elsewhere"))
    form = {
        "tenant": tenant_a.pk,
        "name": "assistant",
        "kind": "connector",
        "permission": "admin",
        "allowed_ips": "[]",
        "rate_limit": 1000,
        "rate_limit_window": 3600,
    }
    refused = client.post("/admin/apikeys/apikey/add/", form)
    assert refused.status_code == 200 and b"read (recommended first) or write" in refused.content
    assert not ApiKey.objects.filter(tenant=tenant_a).exists()
    created = client.post("/admin/apikeys/apikey/add/", {**form, "permission": "read"})
    assert created.status_code == 200 and b'<code class="issued-key">dyn_sk_' in created.content
    assert ApiKey.objects.get(tenant=tenant_a).permission == "read"


@pytest.mark.django_db(transaction=True)
def test_the_migration_turns_admin_connector_keys_into_write_keys():
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    before = [("apikeys", "0002_idempotencyrecord")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    try:
        state = executor.loader.project_state(before).apps
        tenant = state.get_model("tenants", "Tenant").objects.create(domain="old.myshopify.com", name="Old")
        old_key = state.get_model("apikeys", "ApiKey")
        fields = {"tenant": tenant, "prefix": "p", "last_four": "1234"}
        connector = old_key.objects.create(name="c", kind="connector", permission="admin", key_hash="1" * 64, **fields)
        standard = old_key.objects.create(name="s", kind="standard", permission="admin", key_hash="2" * 64, **fields)
    finally:
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(executor.loader.graph.leaf_nodes())
    assert ApiKey.objects.get(pk=connector.pk).permission == "write"
    assert ApiKey.objects.get(pk=standard.pk).permission == "admin"
