"""Authentication, access and error envelopes of every surface, on the platform keys endpoint
and on a probe view of each surface (tests.apikeys.probe)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from apikeys import tokens
from apikeys.models import ApiKey
from apikeys.services import api_key_revoke
from tenants.services import tenant_create
from tests.conftest import client_for

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.apikeys.probe_urls")]

SURFACE_PATHS = {
    "merchandising": "/api/v1/",
    "catalog": "/api/v3/probe",
    "pricing": "/api/external/v1/probe",
    "platform": "/api/platform/v1/probe",
}


def expected_unauthorized(surface: str, body: dict) -> None:
    if surface == "merchandising":
        assert body == {"error": True, "message": body["message"], "code": "unauthorized"}
    elif surface == "catalog":
        assert body == {"error": "Invalid access token"}
    else:
        assert body["code"] == "INVALID_API_KEY" and isinstance(body["error"], str)


def call(surface: str, client, method: str = "get"):
    path = SURFACE_PATHS[surface]
    if surface == "merchandising":
        return client.post(path, {"action": "probe"}, format="json")
    return getattr(client, method)(path, format="json")


def _surface_key(make_key, tenant, surface: str):
    """The key a surface serves: a connector key on the Dynasort connector, an sk_live_ admin key elsewhere."""
    if surface == "merchandising":
        return make_key(tenant, "write", kind="connector")
    return make_key(tenant, "admin")


BAD_HEADERS = [
    None,
    "",
    "Bearer",
    "Token {key}",
    "Bearer {key} extra",
    "Bearer {key}x",
    "Bearer sk_live_short",
    "Basic dXNlcjpwYXNz",
]


@pytest.mark.parametrize("surface", SURFACE_PATHS)
@pytest.mark.parametrize("header", BAD_HEADERS)
def test_bad_authorization_header_is_401_in_surface_form(surface, header, keys_a):
    client = client_for(None)
    if header is not None:
        client.credentials(HTTP_AUTHORIZATION=header.format(key=keys_a.admin.plaintext))
    response = call(surface, client)
    assert response.status_code == 401
    expected_unauthorized(surface, response.json())


@pytest.mark.parametrize("surface", SURFACE_PATHS)
def test_valid_key_passes_every_surface(surface, keys_a):
    response = call(
        surface, client_for(keys_a.connector.plaintext if surface == "merchandising" else keys_a.admin.plaintext)
    )
    assert response.status_code == 200, response.content
    assert response.json()["tenant"] == "shop-a.myshopify.com"


@pytest.mark.parametrize("surface", SURFACE_PATHS)
def test_revoked_key_fails_at_once(surface, keys_a):
    key = ApiKey.objects.get(key_hash=tokens.digest(keys_a.admin.plaintext))
    api_key_revoke(key=key, reason="test")
    response = call(surface, client_for(keys_a.admin.plaintext))
    assert response.status_code == 401
    expected_unauthorized(surface, response.json())


@pytest.mark.parametrize("surface", SURFACE_PATHS)
def test_expired_key_is_401(surface, keys_a):
    ApiKey.objects.filter(key_hash=tokens.digest(keys_a.admin.plaintext)).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    response = call(surface, client_for(keys_a.admin.plaintext))
    assert response.status_code == 401
    expected_unauthorized(surface, response.json())


def test_unknown_well_formed_key_is_401():
    response = call("pricing", client_for(tokens.generate(tokens.KeyKind.STANDARD)))
    assert response.status_code == 401


def test_malformed_key_is_refused_without_a_query(django_assert_num_queries, db):
    client = client_for("sk_live_" + "A" * 49)
    with django_assert_num_queries(0):
        response = call("pricing", client)
    assert response.status_code == 401


@pytest.mark.parametrize("surface", SURFACE_PATHS)
def test_starter_plan_has_no_api_access(surface, make_key):
    tenant = tenant_create(domain="starter.myshopify.com", name="S", plan="starter")
    key = _surface_key(make_key, tenant, surface)
    response = call(surface, client_for(key.plaintext))
    assert response.status_code == 403
    body = response.json()
    if surface == "merchandising":
        assert body["code"] == "permission_denied" and body["error"] is True
    elif surface == "catalog":
        assert "error" in body
    else:
        assert body["code"] == "INSUFFICIENT_PERMISSIONS"


@pytest.mark.parametrize(
    ("surface", "allowed"), [("merchandising", True), ("catalog", True), ("pricing", False), ("platform", False)]
)
def test_growth_plan_has_merchandising_and_catalog_only(surface, allowed, make_key):
    tenant = tenant_create(domain="growth.myshopify.com", name="G", plan="growth")
    key = _surface_key(make_key, tenant, surface)
    response = call(surface, client_for(key.plaintext))
    assert response.status_code == (200 if allowed else 403)


@pytest.mark.parametrize(
    ("allowed_ips", "remote", "ok"),
    [
        (["10.0.0.0/8"], "10.1.2.3", True),
        (["10.0.0.0/8"], "11.0.0.1", False),
        (["2001:db8::/32"], "2001:db8::1", True),
        (["2001:db8::/32"], "2001:db9::1", False),
        (["192.0.2.7"], "::ffff:192.0.2.7", True),
        (["192.0.2.7"], "192.0.2.8", False),
    ],
)
def test_ip_allowlist(allowed_ips, remote, ok, make_key, tenant_a):
    key = make_key(tenant_a, "read", allowed_ips=allowed_ips)
    client = client_for(key.plaintext)
    response = client.get(SURFACE_PATHS["pricing"], REMOTE_ADDR=remote)
    if ok:
        assert response.status_code == 200
    else:
        assert response.status_code == 403
        assert response.json() == {"error": response.json()["error"], "code": "IP_NOT_ALLOWED"}


def test_forwarded_for_is_ignored_without_trusted_proxies(make_key, tenant_a, settings):
    settings.TRUSTED_PROXY_COUNT = 0
    key = make_key(tenant_a, "read", allowed_ips=["10.0.0.0/8"])
    response = client_for(key.plaintext).get(
        SURFACE_PATHS["pricing"], REMOTE_ADDR="203.0.113.9", HTTP_X_FORWARDED_FOR="10.0.0.1"
    )
    assert response.status_code == 403


def test_spoofed_forwarded_for_beyond_trusted_proxies_is_ignored(make_key, tenant_a, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    key = make_key(tenant_a, "read", allowed_ips=["10.0.0.0/8"])
    # The client wrote 10.0.0.1 itself; our one proxy appended the real address 203.0.113.9.
    spoofed = client_for(key.plaintext).get(
        SURFACE_PATHS["pricing"], REMOTE_ADDR="192.168.0.2", HTTP_X_FORWARDED_FOR="10.0.0.1, 203.0.113.9"
    )
    assert spoofed.status_code == 403
    real = client_for(key.plaintext).get(
        SURFACE_PATHS["pricing"], REMOTE_ADDR="192.168.0.2", HTTP_X_FORWARDED_FOR="203.0.113.9, 10.0.0.1"
    )
    assert real.status_code == 200


@pytest.mark.parametrize(
    ("permission", "method", "status"),
    [
        ("read", "get", 200),
        ("read", "put", 403),
        ("write", "put", 200),
        ("write", "delete", 403),
        ("admin", "delete", 200),
    ],
)
def test_permission_levels(permission, method, status, make_key, tenant_a):
    key = make_key(tenant_a, permission)
    response = getattr(client_for(key.plaintext), method)(SURFACE_PATHS["pricing"], {}, format="json")
    assert response.status_code == status
    if status == 403:
        assert response.json()["code"] == "INSUFFICIENT_PERMISSIONS"


@pytest.mark.parametrize("surface", ["catalog", "pricing", "platform"])
def test_invalid_json_is_400_in_surface_form(surface, keys_a):
    client = client_for(keys_a.admin.plaintext)
    response = client.put(SURFACE_PATHS[surface], data="{not json", content_type="application/json")
    assert response.status_code == 400
    body = response.json()
    assert "error" in body
    if surface != "catalog":
        assert body["code"] == "VALIDATION_ERROR"


def test_invalid_json_on_dynasort(keys_a):
    response = client_for(keys_a.connector.plaintext).post(
        "/api/v1/", data='{"action": ', content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_params"


@pytest.mark.parametrize("surface", SURFACE_PATHS)
def test_body_over_one_mib_is_413_and_not_read(surface, keys_a, settings):
    client = client_for(keys_a.admin.plaintext)
    limit = settings.PLATFORM_MAX_REQUEST_BODY_BYTES if surface == "platform" else settings.MAX_REQUEST_BODY_BYTES
    big = '{"x": "' + "a" * (limit + 10) + '"}'
    method = "POST" if surface == "merchandising" else "PUT"
    response = client.generic(method, SURFACE_PATHS[surface], big, content_type="application/json")
    assert response.status_code == 413
    assert "error" in response.json()


def test_platform_accepts_bodies_over_one_mib_for_bulk_sync(keys_a):
    body = '{"x": "' + "a" * (1024 * 1024 + 10) + '"}'
    response = client_for(keys_a.admin.plaintext).generic(
        "PUT", SURFACE_PATHS["platform"], body, content_type="application/json"
    )
    assert response.status_code == 200


@pytest.mark.parametrize("surface", ["merchandising", "catalog", "pricing"])
def test_unexpected_exception_is_500_without_internals(surface, keys_a):
    client = client_for(keys_a.connector.plaintext if surface == "merchandising" else keys_a.admin.plaintext)
    if surface == "merchandising":
        response = client.post("/api/v1/", {"action": "boom"}, format="json")
    else:
        response = client.post(SURFACE_PATHS[surface], {}, format="json")
    assert response.status_code == 500
    text = response.content.decode()
    assert "Traceback" not in text and "ZeroDivision" not in text and "SELECT" not in text
    body = response.json()
    assert {"merchandising": "server_error", "pricing": "INTERNAL_ERROR"}.get(surface) in (None, body.get("code"))


@pytest.mark.parametrize("surface", ["catalog", "pricing", "platform"])
def test_unknown_path_is_404_in_surface_form(surface, keys_a):
    response = client_for(keys_a.admin.plaintext).get(SURFACE_PATHS[surface] + "/nope/nothing")
    assert response.status_code == 404
    assert "error" in response.json()
