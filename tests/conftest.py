"""Shared fixtures: two tenants, a key of each permission, an API client per surface,
and the cross-tenant helper every endpoint test applies."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.conf import settings
from rest_framework.test import APIClient

from apikeys import keycache, redis_client, usage
from apikeys.services import IssuedKey, api_key_create
from apikeys.tokens import KeyKind
from tenants.models import Tenant
from tenants.services import tenant_create


def pytest_configure(config):
    if os.environ.get("CI_REQUIRE_SERVICES"):
        engine = settings.DATABASES["default"]["ENGINE"]
        if "postgresql" not in engine or not settings.REDIS_URL:
            raise pytest.UsageError(
                f"CI must run on PostgreSQL and Redis; got {engine} and REDIS_URL={settings.REDIS_URL}"
            )


requires_redis = pytest.mark.skipif(
    not settings.REDIS_URL and not os.environ.get("CI_REQUIRE_SERVICES"), reason="needs REDIS_URL"
)


@pytest.fixture(autouse=True)
def _isolated_redis(settings):
    """Each test writes its own Redis keys (a unique prefix) and starts with a healthy breaker."""
    settings.REDIS_KEY_PREFIX = f"test:{uuid.uuid4().hex[:12]}"
    redis_client.reset_for_tests()
    usage.reset_memory_for_tests()
    keycache.cache.clear()
    yield
    client = redis_client.get_client()
    if client is not None:
        try:
            keys = list(client.scan_iter(match=f"{settings.REDIS_KEY_PREFIX}:*", count=1000))
            if keys:
                client.delete(*keys)
        except redis_client.REDIS_ERRORS:
            pass
    redis_client.reset_for_tests()


@pytest.fixture
def tenant_a(db) -> Tenant:
    return tenant_create(domain="shop-a.myshopify.com", name="Shop A", plan="enterprise")


@pytest.fixture
def tenant_b(db) -> Tenant:
    return tenant_create(domain="shop-b.myshopify.com", name="Shop B", plan="enterprise")


@pytest.fixture
def make_key(db) -> Callable[..., IssuedKey]:
    def make(tenant: Tenant, permission: str = "admin", kind: str = KeyKind.STANDARD, **kwargs) -> IssuedKey:
        return api_key_create(tenant=tenant, name=f"{permission} key", permission=permission, kind=kind, **kwargs)

    return make


@dataclass
class Keys:
    """Keys of one tenant: one per permission plus the connector key."""

    read: IssuedKey
    write: IssuedKey
    admin: IssuedKey
    connector: IssuedKey


def _keys(make_key, tenant) -> Keys:
    return Keys(
        read=make_key(tenant, "read"),
        write=make_key(tenant, "write"),
        admin=make_key(tenant, "admin"),
        connector=make_key(tenant, "write", kind=KeyKind.CONNECTOR),
    )


@pytest.fixture
def keys_a(make_key, tenant_a) -> Keys:
    return _keys(make_key, tenant_a)


@pytest.fixture
def keys_b(make_key, tenant_b) -> Keys:
    return _keys(make_key, tenant_b)


def client_for(plaintext: str | None) -> APIClient:
    client = APIClient()
    if plaintext:
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {plaintext}")
    return client


@pytest.fixture
def api() -> Callable[[str | None], APIClient]:
    """``api(plaintext)``: a DRF test client sending that key as a Bearer token."""
    return client_for


# One client per surface, authenticated with tenant A's key suited to it.
@pytest.fixture
def dynasort(keys_a) -> APIClient:
    return client_for(keys_a.connector.plaintext)


@pytest.fixture
def sortillus(keys_a) -> APIClient:
    return client_for(keys_a.write.plaintext)


@pytest.fixture
def shopisync(keys_a) -> APIClient:
    return client_for(keys_a.write.plaintext)


@pytest.fixture
def platform(keys_a) -> APIClient:
    return client_for(keys_a.admin.plaintext)


# Not-found answers per surface (DESIGN.md "Errors, per surface").
def assert_not_found(surface: str, response) -> None:
    assert response.status_code == 404, (response.status_code, getattr(response, "content", b"")[:500])
    body = response.json()
    if surface == "merchandising":
        assert body["error"] is True and body["code"] == "not_found"
    elif surface == "catalog":
        assert set(body) == {"error"} and isinstance(body["error"], str)
    else:
        assert body["code"] == "NOT_FOUND"


def assert_cross_tenant(surface: str, other_client: APIClient, method: str, path: str, data=None) -> None:
    """Tenant B's key addressing tenant A's object gets exactly the not-found answer, never data or 403."""
    response = getattr(other_client, method.lower())(path, data=data, format="json")
    assert_not_found(surface, response)


@pytest.fixture
def eager_tasks():
    """Tasks run inline in this process, also where REDIS_URL makes Celery send them to a broker."""
    from config.celery import app

    saved = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = saved


from tests.celery_worker import live_celery_worker  # noqa: E402, F401  (fixture)
