"""Every error code of the ShopiSync table on the pricing endpoints: keys, IPs, plan, permissions, rate limit."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from apikeys import tokens
from apikeys.models import ApiKey
from tenants.services import tenant_create
from tests.conftest import client_for
from tests.pricing.conftest import priced_product

pytestmark = pytest.mark.django_db
BASE = "/api/external/v1"

READS = [f"{BASE}/products", f"{BASE}/products/42", f"{BASE}/competitors", f"{BASE}/price-history/42", f"{BASE}/stats"]
WRITES = [("put", f"{BASE}/products/42", {"active": True}), ("post", f"{BASE}/webhooks/test", {"ping": 1})]
ALL = [("get", path, None) for path in READS] + WRITES


@pytest.fixture
def product_42(tenant_a):
    return priced_product(tenant_a, external_id=42)


def send(client, method, path, data):
    return getattr(client, method)(path, data=data, format="json")


@pytest.mark.parametrize(("method", "path", "data"), ALL)
def test_missing_or_invalid_key_is_invalid_api_key(method, path, data, product_42, keys_a):
    for client in (client_for(None), client_for(keys_a.read.plaintext + "x")):
        response = send(client, method, path, data)
        assert response.status_code == 401
        body = response.json()
        assert body["code"] == "INVALID_API_KEY" and isinstance(body["error"], str)


@pytest.mark.parametrize(("method", "path", "data"), ALL)
def test_expired_key_is_invalid_api_key(method, path, data, product_42, keys_a):
    ApiKey.objects.filter(key_hash=tokens.digest(keys_a.admin.plaintext)).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    response = send(client_for(keys_a.admin.plaintext), method, path, data)
    assert response.status_code == 401
    assert response.json()["code"] == "INVALID_API_KEY"


@pytest.mark.parametrize(("method", "path", "data"), ALL)
def test_ip_outside_allowlist_is_ip_not_allowed(method, path, data, product_42, make_key, tenant_a):
    key = make_key(tenant_a, "admin", allowed_ips=["10.0.0.0/8"])
    response = getattr(client_for(key.plaintext), method)(path, data=data, format="json", REMOTE_ADDR="192.0.2.1")
    assert response.status_code == 403
    assert response.json()["code"] == "IP_NOT_ALLOWED"
    ok = getattr(client_for(key.plaintext), method)(path, data=data, format="json", REMOTE_ADDR="10.2.3.4")
    assert ok.status_code == 200


@pytest.mark.parametrize(("method", "path", "data"), ALL)
def test_growth_plan_has_no_shopisync_access(method, path, data, make_key):
    tenant = tenant_create(domain="growth.myshopify.com", name="G", plan="growth")
    priced_product(tenant, external_id=42)
    response = send(client_for(make_key(tenant, "admin").plaintext), method, path, data)
    assert response.status_code == 403
    assert response.json()["code"] == "INSUFFICIENT_PERMISSIONS"


@pytest.mark.parametrize("path", READS)
@pytest.mark.parametrize("permission", ["read", "write", "admin"])
def test_reads_need_read(path, permission, product_42, make_key, tenant_a):
    assert client_for(make_key(tenant_a, permission).plaintext).get(path).status_code == 200


@pytest.mark.parametrize(("method", "path", "data"), WRITES)
@pytest.mark.parametrize(("permission", "status"), [("read", 403), ("write", 200), ("admin", 200)])
def test_writes_need_write(method, path, data, permission, status, product_42, make_key, tenant_a):
    response = send(client_for(make_key(tenant_a, permission).plaintext), method, path, data)
    assert response.status_code == status
    if status == 403:
        assert response.json()["code"] == "INSUFFICIENT_PERMISSIONS"


def test_read_key_cannot_change_a_product(product_42, keys_a):
    response = send(client_for(keys_a.read.plaintext), "put", f"{BASE}/products/42", {"autoReprice": True})
    assert response.status_code == 403
    assert not hasattr(product_42, "pricing") or not product_42.pricing.auto_reprice


def test_rate_limit_per_key_with_iso_reset(product_42, make_key, tenant_a):
    key = make_key(tenant_a, "read", rate_limit=2)
    client = client_for(key.plaintext)
    first = client.get(f"{BASE}/stats")
    assert first["X-RateLimit-Limit"] == "2"
    assert first["X-RateLimit-Remaining"] == "1"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", first["X-RateLimit-Reset"])
    assert client.get(f"{BASE}/products").status_code == 200
    refused = client.get(f"{BASE}/products/42")
    assert refused.status_code == 429
    assert refused.json()["code"] == "RATE_LIMIT_EXCEEDED"
    assert refused["X-RateLimit-Remaining"] == "0"
    assert int(refused["Retry-After"]) > 0
    # another key of the same shop has its own budget
    assert client_for(make_key(tenant_a, "read").plaintext).get(f"{BASE}/stats").status_code == 200


def test_default_rate_limit_is_1000_per_hour(product_42, keys_a):
    assert client_for(keys_a.read.plaintext).get(f"{BASE}/stats")["X-RateLimit-Limit"] == "1000"


def test_unknown_path_is_not_found_in_shopisync_form(keys_a):
    response = client_for(keys_a.read.plaintext).get(f"{BASE}/nothing-here")
    assert response.status_code == 404
    assert response.json()["code"] == "NOT_FOUND"
