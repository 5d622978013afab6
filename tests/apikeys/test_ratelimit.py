"""The Redis sliding-window limiter: exact under concurrency, headers per surface, memory fallback."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path

import pytest

from apikeys import redis_client
from apikeys.ratelimit import Limit, RateLimiter, limiter
from tests.conftest import client_for, requires_redis

ROOT = Path(__file__).resolve().parents[2]


def _bucket() -> str:
    return f"t-{uuid.uuid4().hex}"


@requires_redis
def test_exactly_the_limit_passes_under_concurrent_threads():
    lim = Limit(_bucket(), 60, 60)
    with ThreadPoolExecutor(max_workers=16) as pool:
        decisions = list(pool.map(lambda _: limiter.hit([lim]), range(200)))
    assert sum(d.allowed for d in decisions) == 60
    assert not any(d.degraded for d in decisions)
    refused = [d for d in decisions if not d.allowed]
    assert all(d.remaining == 0 and d.retry_after >= 1 for d in refused)


_CHILD = """
import os, sys, django
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django.setup()
from apikeys.ratelimit import Limit, RateLimiter
bucket, n = sys.argv[1], int(sys.argv[2])
limiter = RateLimiter()
print(sum(limiter.hit([Limit(bucket, 60, 60)]).allowed for _ in range(n)))
"""


@requires_redis
def test_exactly_the_limit_passes_across_processes(settings):
    bucket = _bucket()
    env = {**os.environ, "REDIS_URL": settings.REDIS_URL, "REDIS_KEY_PREFIX": settings.REDIS_KEY_PREFIX}
    procs = [
        subprocess.Popen(  # noqa: S603
            [sys.executable, "-c", _CHILD, bucket, "50"], cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True
        )
        for _ in range(4)
    ]
    allowed = [int(p.communicate(timeout=60)[0].strip()) for p in procs]
    assert sum(allowed) == 60


@requires_redis
def test_a_refused_request_consumes_nothing_from_other_limits():
    small, large = Limit(_bucket(), 2, 60), Limit(_bucket(), 100, 60)
    results = [limiter.hit([small, large]).allowed for _ in range(5)]
    assert results == [True, True, False, False, False]
    # the large limit counted only the two admitted requests
    assert limiter.hit([large]).remaining == 100 - 3


def test_memory_fallback_limits_when_redis_is_unreachable(settings, caplog):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens there: Redis is down
    redis_client.reset_for_tests()
    local = RateLimiter()
    lim = Limit(_bucket(), 5, 60)
    decisions = [local.hit([lim]) for _ in range(8)]
    assert [d.allowed for d in decisions] == [True] * 5 + [False] * 3
    assert all(d.degraded for d in decisions)
    assert redis_client.status()["degraded"] is True
    assert "Redis unreachable" in caplog.text
    assert caplog.text.count("Redis unreachable") == 1  # logged once per outage, not per request


@pytest.mark.django_db
def test_requests_with_redis_down_get_no_5xx_and_stay_limited(settings, make_key, tenant_a):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    redis_client.reset_for_tests()
    key = make_key(tenant_a, "admin", rate_limit=3, rate_limit_window=60)
    client = client_for(key.plaintext)
    statuses = [client.get("/api/platform/v1/keys").status_code for _ in range(5)]
    assert statuses == [200, 200, 200, 429, 429]


@pytest.mark.django_db
def test_readyz_reports_degraded_limiter_when_redis_is_down(settings, client):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    redis_client.reset_for_tests()
    response = client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["checks"]["redis"]["ok"] is False
    assert body["checks"]["rate_limiter"]["mode"].startswith("per-process memory")
    assert body["checks"]["database"]["ok"] is True


@pytest.mark.django_db
def test_readyz_ok_and_healthz(client):
    assert client.get("/healthz").json() == {"status": "ok"}
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["status"] == "ready"


@requires_redis
def test_limiting_resumes_in_redis_when_it_comes_back(settings):
    real = settings.REDIS_URL
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    redis_client.reset_for_tests()
    local = RateLimiter()
    assert local.hit([Limit(_bucket(), 5, 60)]).degraded
    settings.REDIS_URL = real
    redis_client.reset_for_tests()  # the breaker's retry time has passed
    assert not local.hit([Limit(_bucket(), 5, 60)]).degraded


@pytest.mark.django_db
def test_pricing_headers_use_iso_reset_and_key_limit(make_key, tenant_a):
    key = make_key(tenant_a, "admin", rate_limit=2, rate_limit_window=3600)
    client = client_for(key.plaintext)
    first = client.get("/api/platform/v1/keys")
    assert first["X-RateLimit-Limit"] == "2"
    assert first["X-RateLimit-Remaining"] == "1"
    assert first["X-RateLimit-Reset"].isdigit()  # the platform surface uses Unix seconds
    client.get("/api/platform/v1/keys")
    third = client.get("/api/platform/v1/keys")
    assert third.status_code == 429
    assert third.json()["code"] == "RATE_LIMIT_EXCEEDED"
    assert int(third["Retry-After"]) >= 1
    assert third["X-RateLimit-Remaining"] == "0"


@pytest.mark.django_db
@pytest.mark.urls("tests.apikeys.probe_urls")
def test_shopisync_reset_header_is_iso_8601(make_key, tenant_a):
    key = make_key(tenant_a, "read")
    response = client_for(key.plaintext).get("/api/external/v1/probe")
    reset = response["X-RateLimit-Reset"]
    assert reset.endswith("Z")
    assert datetime.fromisoformat(reset.replace("Z", "+00:00")).tzinfo is not None
    assert response["RateLimit-Policy"] == '"default";q=1000;w=3600'


@pytest.mark.django_db
@pytest.mark.urls("tests.apikeys.probe_urls")
def test_dynasort_limit_is_per_shop_across_keys(settings, make_key, tenant_a):
    settings.MERCHANDISING_RATE_LIMIT = (3, 60)
    first = client_for(make_key(tenant_a, "write", kind="connector").plaintext)
    second = client_for(make_key(tenant_a, "write").plaintext)
    statuses = [c.post("/api/v1/", {"action": "probe"}, format="json").status_code for c in (first, second) * 2]
    assert statuses == [200, 200, 200, 429]
    refused = second.post("/api/v1/", {"action": "probe"}, format="json")
    assert refused.json() == {"error": True, "message": "Too many requests", "code": "rate_limited"}
    assert refused["X-RateLimit-Limit"] == "3"
    assert refused["X-RateLimit-Reset"].isdigit()
    assert "Retry-After" in refused
