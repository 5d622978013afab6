"""The Django admin for tenants and keys: pages render, create shows the key once, actions work."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.contrib.messages import get_messages
from django.contrib.sessions.models import Session
from django.utils import timezone

from apikeys import tokens
from apikeys.models import ApiKey

pytestmark = pytest.mark.django_db


def _issued_plaintext(response) -> str:
    """A new key's plaintext from the admin's answer: in its body only (no-store), never in a message."""
    assert response.status_code == 200 and "no-store" in response["Cache-Control"], response.status_code
    match = re.search(rb'<code class="issued-key">((?:sk_live_|dyn_sk_)\w+)</code>', response.content)
    plaintext = match.group(1).decode()
    assert not any(plaintext in str(m) for m in get_messages(response.wsgi_request))
    assert all(plaintext not in morsel.value for morsel in response.cookies.values())
    return plaintext


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
    # the plaintext is in this response's body only: no redirect, no message, no cookie, no session
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    plaintext = _issued_plaintext(response)
    assert ApiKey.objects.filter(key_hash=tokens.digest(plaintext), name="from admin").exists()
    assert not list(get_messages(response.wsgi_request))
    assert all(plaintext not in morsel.value for morsel in response.cookies.values())
    assert not any(plaintext in s.session_data or plaintext in str(s.get_decoded()) for s in Session.objects.all())
    assert plaintext.encode() not in staff_client.get("/admin/apikeys/apikey/").content


def test_admin_refuses_a_second_connector_key(staff_client, keys_a, tenant_a):
    response = staff_client.post(
        "/admin/apikeys/apikey/add/",
        {
            "tenant": tenant_a.pk,
            "name": "c2",
            "kind": "connector",
            "permission": "write",
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
    response = staff_client.post("/admin/apikeys/apikey/", {**selected, "apply": "1", "grace_seconds": "0"})
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    plaintext = _issued_plaintext(response)
    assert ApiKey.objects.get(key_hash=tokens.digest(plaintext)).rotated_from_id == keys_a.write.key.pk
    assert not any(plaintext in str(m) for m in get_messages(response.wsgi_request))
    assert all(plaintext not in morsel.value for morsel in response.cookies.values())
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


def _change_form(key: ApiKey, **overrides) -> dict:
    data = {
        "name": key.name,
        "permission": key.permission,
        "allowed_ips": "\n".join(key.allowed_ips),
        "expires_at_0": "",
        "expires_at_1": "",
        "rate_limit": key.rate_limit,
        "rate_limit_window": key.rate_limit_window,
        "events-TOTAL_FORMS": "0",
        "events-INITIAL_FORMS": "0",
        "events-MIN_NUM_FORMS": "0",
        "events-MAX_NUM_FORMS": "0",
    }
    return {**data, **overrides}


def test_allowed_ips_are_edited_one_per_line_and_saved_as_a_list(staff_client, keys_a):
    key = keys_a.write.key
    url = f"/admin/apikeys/apikey/{key.pk}/change/"
    text = "203.0.113.7\r\n\r\n  198.51.100.0/24 \r\n2001:db8::/32\r\n"
    response = staff_client.post(url, _change_form(key, allowed_ips=text))
    assert response.status_code == 302, response.content.decode()[:2000]
    key.refresh_from_db()
    assert key.allowed_ips == ["203.0.113.7", "198.51.100.0/24", "2001:db8::/32"]
    page = staff_client.get(url).content.decode()
    assert "203.0.113.7\n198.51.100.0/24\n2001:db8::/32</textarea>" in page  # shown back one per line


def test_an_invalid_cidr_is_refused_and_nothing_changes(staff_client, keys_a):
    key = keys_a.write.key
    response = staff_client.post(
        f"/admin/apikeys/apikey/{key.pk}/change/", _change_form(key, allowed_ips="10.0.0.0/8\n10.0.0.0/33\nnot-an-ip")
    )
    assert response.status_code == 200  # the form again
    page = response.content.decode()
    assert "&#x27;10.0.0.0/33&#x27; is not an IP address or CIDR range." in page
    assert "&#x27;not-an-ip&#x27; is not an IP address or CIDR range." in page
    key.refresh_from_db()
    assert key.allowed_ips == []


def test_allowed_ips_field_reads_lines_and_json_lists():
    from apikeys.forms import IpAllowlistField

    field = IpAllowlistField(required=False)
    assert field.clean("10.1.2.3\n10.0.0.0/8") == ["10.1.2.3", "10.0.0.0/8"]
    assert field.clean('["192.0.2.1"]') == ["192.0.2.1"]  # what the raw JSON box took still works
    assert field.clean("") == []
    assert field.prepare_value(["10.1.2.3", "10.0.0.0/8"]) == "10.1.2.3\n10.0.0.0/8"


def test_rotate_action_asks_for_a_grace_period_first(staff_client, keys_a):
    key = keys_a.write.key
    response = staff_client.post("/admin/apikeys/apikey/", {"action": "rotate_selected", "_selected_action": [key.pk]})
    assert response.status_code == 200
    assert b'name="grace_seconds"' in response.content
    key.refresh_from_db()
    assert key.status == "active" and not ApiKey.objects.filter(rotated_from=key).exists()  # nothing yet


def test_rotate_with_grace_keeps_the_old_key_working_until_then(staff_client, keys_a, api):
    key = keys_a.write.key
    before = timezone.now()
    response = staff_client.post(
        "/admin/apikeys/apikey/",
        {"action": "rotate_selected", "_selected_action": [key.pk], "apply": "1", "grace_seconds": "600"},
    )
    plaintext = _issued_plaintext(response)
    key.refresh_from_db()
    assert key.status == "expiring"
    assert before + timedelta(seconds=600) <= key.revoked_at <= timezone.now() + timedelta(seconds=600)
    new = ApiKey.objects.get(key_hash=tokens.digest(plaintext))
    assert (new.rotated_from_id, new.lineage_id, new.permission) == (key.pk, key.lineage_id, key.permission)
    assert api(keys_a.write.plaintext).get("/api/platform/v1/keys").status_code != 401  # old key still works
    assert api(plaintext).get("/api/platform/v1/keys").status_code != 401


@pytest.mark.parametrize("grace", ["86401", "-1", "soon"])
def test_rotate_refuses_a_grace_period_out_of_range(staff_client, keys_a, grace):
    key = keys_a.write.key
    response = staff_client.post(f"/admin/apikeys/apikey/{key.pk}/rotate/", {"apply": "1", "grace_seconds": grace})
    assert response.status_code == 200 and b"errorlist" in response.content
    key.refresh_from_db()
    assert key.status == "active" and not ApiKey.objects.filter(rotated_from=key).exists()


def test_rotate_button_on_the_key_page_rotates_that_key(staff_client, keys_a):
    key = keys_a.read.key
    page = staff_client.get(f"/admin/apikeys/apikey/{key.pk}/change/").content.decode()
    assert f"/admin/apikeys/apikey/{key.pk}/rotate/" in page
    response = staff_client.post(f"/admin/apikeys/apikey/{key.pk}/rotate/", {"apply": "1", "grace_seconds": "0"})
    assert ApiKey.objects.get(key_hash=tokens.digest(_issued_plaintext(response))).rotated_from_id == key.pk
    key.refresh_from_db()
    assert key.status == "revoked"
    assert ApiKey.objects.filter(rotated_from=key, revoked_at__isnull=True).count() == 1


def test_key_event_details_are_shown_as_a_table(staff_client, keys_a):
    event = keys_a.write.key.events.get()
    page = staff_client.get(f"/admin/apikeys/apikeyevent/{event.pk}/change/").content.decode()
    assert '<table class="readable-json">' in page and "<th>permission</th><td>write</td>" in page
    assert str(event) == f"created {keys_a.write.key.name} at {event.at:%Y-%m-%d %H:%M}"


def test_a_new_key_takes_its_allowed_ips_one_per_line(staff_client, tenant_a):
    form = {
        "tenant": tenant_a.pk,
        "name": "office only",
        "kind": "standard",
        "permission": "read",
        "allowed_ips": "192.0.2.10\n198.51.100.0/24",
        "rate_limit": 1000,
        "rate_limit_window": 3600,
    }
    assert b'<textarea name="allowed_ips"' in staff_client.get("/admin/apikeys/apikey/add/").content
    _issued_plaintext(staff_client.post("/admin/apikeys/apikey/add/", form))
    assert ApiKey.objects.get(name="office only").allowed_ips == ["192.0.2.10", "198.51.100.0/24"]
