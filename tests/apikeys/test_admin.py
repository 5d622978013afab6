"""The Django admin for tenants and keys: pages render, create shows the key once, actions work."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.contrib.messages import get_messages

from apikeys import tokens
from apikeys.models import ApiKey

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client):
    user = get_user_model().objects.create_superuser("staff", "staff@example.com", "pw-not-used-elsewhere")
    client.force_login(user)
    return client


@pytest.mark.parametrize(
    "url",
    [
        "/admin/",
        "/admin/tenants/tenant/",
        "/admin/tenants/tenant/add/",
        "/admin/apikeys/apikey/",
        "/admin/apikeys/apikey/add/",
        "/admin/apikeys/apikeyevent/",
        "/admin/apikeys/apikeyusagehour/",
    ],
)
def test_admin_pages_render(staff_client, url, keys_a):
    assert staff_client.get(url).status_code == 200


def test_key_change_page_shows_usage(staff_client, keys_a, api):
    api(keys_a.admin.plaintext).get("/api/platform/v1/keys")
    response = staff_client.get(f"/admin/apikeys/apikey/{keys_a.admin.key.pk}/change/")
    assert response.status_code == 200
    assert b"1 requests" in response.content
    assert keys_a.admin.plaintext.encode() not in response.content


def test_admin_creates_a_key_and_shows_plaintext_once(staff_client, tenant_a):
    response = staff_client.post(
        "/admin/apikeys/apikey/add/",
        {
            "tenant": tenant_a.pk,
            "name": "from admin",
            "kind": "standard",
            "permission": "write",
            "allowed_ips": "[]",
            "rate_limit": 1000,
            "rate_limit_window": 3600,
        },
    )
    assert response.status_code == 302
    shown = [str(m) for m in get_messages(response.wsgi_request)]
    plaintext = next(word for m in shown for word in m.split() if word.startswith("sk_live_"))
    assert ApiKey.objects.filter(key_hash=tokens.digest(plaintext), name="from admin").exists()
    assert plaintext.encode() in staff_client.get("/admin/apikeys/apikey/").content  # the message, once
    assert plaintext.encode() not in staff_client.get("/admin/apikeys/apikey/").content


def test_admin_refuses_a_second_connector_key(staff_client, keys_a, tenant_a):
    response = staff_client.post(
        "/admin/apikeys/apikey/add/",
        {
            "tenant": tenant_a.pk,
            "name": "c2",
            "kind": "connector",
            "permission": "admin",
            "allowed_ips": "[]",
            "rate_limit": 1000,
            "rate_limit_window": 3600,
        },
    )
    assert response.status_code == 200  # the form again, with the error
    assert b"active connector key already" in response.content


def test_admin_revoke_and_rotate_actions(staff_client, keys_a):
    staff_client.post("/admin/apikeys/apikey/", {"action": "revoke_selected", "_selected_action": [keys_a.read.key.pk]})
    keys_a.read.key.refresh_from_db()
    assert keys_a.read.key.status == "revoked"
    selected = {"action": "rotate_selected", "_selected_action": [keys_a.write.key.pk]}
    response = staff_client.post("/admin/apikeys/apikey/", {**selected, "apply": "1", "grace_seconds": "0"}, follow=True)
    assert any("new key" in str(m) for m in get_messages(response.wsgi_request))
    keys_a.write.key.refresh_from_db()
    assert keys_a.write.key.status == "revoked"


def test_admin_creates_tenant_through_the_service(staff_client):
    response = staff_client.post(
        "/admin/tenants/tenant/add/",
        {"domain": "New.myshopify.com", "name": "New", "plan": "growth", "should_recommend_products": "on"},
    )
    assert response.status_code == 302
    from tenants.models import Tenant

    assert Tenant.objects.get(domain="new.myshopify.com").plan == "growth"
