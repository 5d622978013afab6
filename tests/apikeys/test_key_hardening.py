"""Key hardening (issue 12 items 10 and 12): strict key bodies, refused requests in the per-address
failure limiter, IPv4-mapped allowlist entries, the Bearer scheme in any case, REDIS_KEY_PREFIX on the cache."""

from __future__ import annotations

import uuid

import pytest
from django.core.cache import cache

import config.settings as configured
from apikeys import redis_client
from apikeys.models import ApiKey
from apikeys.services import api_key_create, api_key_update
from apikeys.tokens import KeyKind
from tenants.services import tenant_create
from tests.conftest import client_for, requires_redis

pytestmark = pytest.mark.django_db


# --- item 10: key bodies refuse what they do not know ------------------------------------------------


@pytest.mark.parametrize(
    ("payload", "unknown"),
    [
        ({"name": "ci", "allowed_ip": ["10.0.0.1"], "expires": "2999-01-01T00:00:00Z"}, ["allowed_ip", "expires"]),
        ({"name": "ci", "permissions": "read"}, ["permissions"]),
        ({"name": "ci", "ratelimit": 5}, ["ratelimit"]),
    ],
)
def test_key_creation_refuses_unknown_fields_naming_them(payload, unknown, make_key, tenant_a):
    admin = make_key(tenant_a, "admin")
    response = client_for(admin.plaintext).post("/api/platform/v1/keys", payload, format="json")
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["code"] == "VALIDATION_ERROR"
    assert sorted(body["details"]) == unknown
    assert all(body["details"][field] == ["Unknown field."] for field in unknown)
    assert ApiKey.objects.filter(tenant=tenant_a).count() == 1


@pytest.mark.parametrize("value", ["10", 10.0, 10.5, True, None, [10], {"s": 10}])
@pytest.mark.parametrize("field", ["rate_limit", "rate_limit_window"])
def test_key_creation_refuses_numbers_that_are_no_integers(field, value, make_key, tenant_a):
    admin = make_key(tenant_a, "admin")
    response = client_for(admin.plaintext).post("/api/platform/v1/keys", {"name": "ci", field: value}, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()["details"]
    assert ApiKey.objects.filter(tenant=tenant_a).count() == 1


@pytest.mark.parametrize("grace", ["60", 60.0, 1.5, True, None, [60], {"seconds": 60}])
def test_rotate_type_checks_grace_seconds(grace, keys_a):
    response = client_for(keys_a.admin.plaintext).post(
        f"/api/platform/v1/keys/{keys_a.read.key.pk}/rotate", {"grace_seconds": grace}, format="json"
    )
    assert response.status_code == 400, response.content
    assert "grace_seconds" in response.json()["details"]
    keys_a.read.key.refresh_from_db()
    assert keys_a.read.key.revoked_at is None


@pytest.mark.parametrize(
    ("suffix", "payload", "unknown"),
    [("rotate", {"grace": 60}, "grace"), ("revoke", {"reason": "x", "why": "y"}, "why")],
)
def test_rotate_and_revoke_refuse_unknown_fields(suffix, payload, unknown, keys_a):
    response = client_for(keys_a.admin.plaintext).post(
        f"/api/platform/v1/keys/{keys_a.read.key.pk}/{suffix}", payload, format="json"
    )
    assert response.status_code == 400
    assert response.json()["details"] == {unknown: ["Unknown field."]}
    keys_a.read.key.refresh_from_db()
    assert keys_a.read.key.revoked_at is None


# --- item 12: refusals before the rate limit are counted per client address -----------------------


def _refused_kind(tenant_a, make_key):
    return client_for(make_key(tenant_a, "write", kind=KeyKind.CONNECTOR).plaintext), "/api/external/v1/products"


def _refused_ip(tenant_a, make_key):
    return client_for(make_key(tenant_a, "admin", allowed_ips=["10.0.0.0/8"]).plaintext), "/api/external/v1/products"


def _refused_plan(tenant_a, make_key):
    starter = tenant_create(domain="starter.myshopify.com", name="S", plan="starter")
    return client_for(make_key(starter, "admin").plaintext), "/api/external/v1/products"


@pytest.mark.parametrize("refusal", [_refused_kind, _refused_ip, _refused_plan], ids=["kind", "allowlist", "plan"])
def test_refused_403s_are_rate_limited_per_client_address(refusal, settings, tenant_a, make_key):
    settings.AUTH_FAILURE_RATE_LIMIT = (3, 60)
    client, path = refusal(tenant_a, make_key)
    statuses = [client.get(path, REMOTE_ADDR="198.51.100.7").status_code for _ in range(5)]
    assert statuses == [403, 403, 403, 429, 429]
    limited = client.get(path, REMOTE_ADDR="198.51.100.7")
    assert limited.json()["code"] == "RATE_LIMIT_EXCEEDED" and int(limited["Retry-After"]) >= 1
    # another address is not affected
    assert client.get(path, REMOTE_ADDR="198.51.100.8").status_code == 403


def test_an_admitted_request_is_not_counted_as_a_failure(settings, keys_a):
    settings.AUTH_FAILURE_RATE_LIMIT = (2, 60)
    client = client_for(keys_a.read.plaintext)
    assert [client.get("/api/external/v1/products").status_code for _ in range(4)] == [200] * 4


# --- item 12: IPv4-mapped allowlist entries --------------------------------------------------------


@pytest.mark.parametrize(
    ("entry", "stored"),
    [
        ("::ffff:10.1.2.3", "10.1.2.3/32"),
        ("::ffff:10.1.2.3/128", "10.1.2.3/32"),
        ("::ffff:10.0.0.0/104", "10.0.0.0/8"),
        ("10.1.2.3", "10.1.2.3"),
        ("2001:db8::/32", "2001:db8::/32"),
    ],
)
def test_ipv4_mapped_allowlist_entries_are_stored_as_ipv4(entry, stored, tenant_a):
    issued = api_key_create(tenant=tenant_a, name="ci", allowed_ips=[entry])
    issued.key.refresh_from_db()
    assert issued.key.allowed_ips == [stored]


@pytest.mark.parametrize("client_address", ["10.1.2.3", "::ffff:10.1.2.3"])
@pytest.mark.parametrize("entry", ["::ffff:10.1.2.3", "::ffff:10.1.0.0/112", "10.1.2.3"])
def test_ipv4_mapped_allowlist_entry_matches_the_client(entry, client_address, make_key, tenant_a):
    admin = make_key(tenant_a, "admin")
    created = client_for(admin.plaintext).post(
        "/api/platform/v1/keys", {"name": "ci", "permission": "read", "allowed_ips": [entry]}, format="json"
    )
    assert created.status_code == 201, created.content
    client = client_for(created.json()["key"])
    assert client.get("/api/external/v1/products", REMOTE_ADDR=client_address).status_code == 200
    assert client.get("/api/external/v1/products", REMOTE_ADDR="10.9.9.9").status_code == 403


def test_an_ipv4_mapped_entry_stored_before_normalisation_still_matches(tenant_a):
    issued = api_key_create(tenant=tenant_a, name="ci")
    ApiKey.objects.filter(pk=issued.key.pk).update(allowed_ips=["::ffff:10.1.2.3"])  # a row from before
    response = client_for(issued.plaintext).get("/api/external/v1/products", REMOTE_ADDR="10.1.2.3")
    assert response.status_code == 200


def test_updating_the_allowlist_normalises_it(tenant_a):
    issued = api_key_create(tenant=tenant_a, name="ci")
    api_key_update(key=issued.key, allowed_ips=["::ffff:192.0.2.1"])
    issued.key.refresh_from_db()
    assert issued.key.allowed_ips == ["192.0.2.1/32"]


# --- item 12: the Bearer scheme in any case (RFC 7235) ---------------------------------------------


@pytest.mark.parametrize("scheme", ["Bearer", "bearer", "BEARER", "bEaReR"])
@pytest.mark.parametrize(
    ("path", "method", "body", "key"),
    [
        ("/api/v1/", "post", {"action": "list_recipes"}, "connector"),
        ("/api/v3/products", "get", None, "read"),
        ("/api/external/v1/products", "get", None, "read"),
        ("/api/platform/v1/keys", "get", None, "admin"),
    ],
)
def test_the_bearer_scheme_is_case_insensitive(scheme, path, method, body, key, keys_a):
    plaintext = getattr(keys_a, key).plaintext
    client = client_for(None)
    client.credentials(HTTP_AUTHORIZATION=f"{scheme} {plaintext}")
    response = getattr(client, method)(path, body, format="json")
    assert response.status_code == 200, response.content


@pytest.mark.parametrize("header", ["Bearer{key}", "Bearers {key}", "Token {key}", "bearer\t{key}"])
def test_other_schemes_are_still_refused(header, keys_a):
    client = client_for(None)
    client.credentials(HTTP_AUTHORIZATION=header.format(key=keys_a.read.plaintext))
    assert client.get("/api/external/v1/products").status_code == 401


# --- item 12: REDIS_KEY_PREFIX covers the Django cache --------------------------------------------


@requires_redis
def test_the_django_cache_writes_under_redis_key_prefix():
    name = f"prefix-check-{uuid.uuid4().hex}"
    cache.set(name, "x", 30)
    try:
        raw = redis_client.get_client()
        assert raw.exists(f"{configured.REDIS_KEY_PREFIX}:1:{name}")
        assert not raw.exists(f":1:{name}")
    finally:
        cache.delete(name)
