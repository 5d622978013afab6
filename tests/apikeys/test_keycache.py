"""The per-process key cache: a known key costs no query, and any change to a key or its tenant is seen on the
next request, in this process or (through the Redis generation) in any other."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apikeys import keycache, redis_client
from apikeys.models import ApiKey
from apikeys.ratelimit import GENERATION_KEY
from apikeys.services import api_key_revoke
from tenants.models import Tenant
from tests.conftest import client_for, requires_redis

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.apikeys.probe_urls")]

PROBE = "/api/v3/probe"


def _key_queries(client) -> tuple[int, int]:
    """(status, number of queries that read API keys) of one probe request."""
    with CaptureQueriesContext(connection) as queries:
        status = client.get(PROBE).status_code
    return status, sum('"apikeys_apikey"' in q["sql"] for q in queries.captured_queries)


def _changed_elsewhere() -> None:
    """What another process's write does to this one: the generation moves (the row was changed by SQL)."""
    redis_client.get_client().incr(redis_client.key(GENERATION_KEY))


@requires_redis
def test_a_known_key_is_not_looked_up_again(keys_a):
    client = client_for(keys_a.read.plaintext)
    assert _key_queries(client) == (200, 1)
    assert _key_queries(client) == (200, 0)
    assert _key_queries(client) == (200, 0)


def test_revocation_in_this_process_is_seen_at_once(keys_a):
    client = client_for(keys_a.read.plaintext)
    assert client.get(PROBE).status_code == 200
    api_key_revoke(key=keys_a.read.key)
    assert client.get(PROBE).status_code == 401


@requires_redis
def test_a_change_made_by_another_process_is_seen_on_the_next_request(keys_a):
    client = client_for(keys_a.read.plaintext)
    assert _key_queries(client) == (200, 1)
    # a write that sends no signal here (as another process's would not) is not seen ...
    ApiKey.objects.filter(pk=keys_a.read.key.pk).update(permission="admin", allowed_ips=["10.9.9.9"])
    assert _key_queries(client) == (200, 0)
    # ... until the generation moves: then the key is read again, once, and the allowlist applies
    _changed_elsewhere()
    response = client.get(PROBE)
    assert response.status_code == 403
    ApiKey.objects.filter(pk=keys_a.read.key.pk).update(allowed_ips=[])
    _changed_elsewhere()
    assert _key_queries(client) == (200, 1)
    assert _key_queries(client) == (200, 0)


@requires_redis
def test_a_stale_request_is_counted_once(make_key, tenant_a):
    key = make_key(tenant_a, "read", rate_limit=10, rate_limit_window=60)
    client = client_for(key.plaintext)
    assert client.get(PROBE)["X-RateLimit-Remaining"] == "9"
    _changed_elsewhere()
    assert client.get(PROBE)["X-RateLimit-Remaining"] == "8"
    assert client.get(PROBE)["X-RateLimit-Remaining"] == "7"


def test_a_plan_change_applies_to_the_next_request(keys_a, tenant_a):
    client = client_for(keys_a.read.plaintext)
    assert client.get(PROBE).status_code == 200
    tenant = Tenant.objects.get(pk=tenant_a.pk)
    tenant.plan = "starter"
    tenant.save()
    assert client.get(PROBE).status_code == 403


@requires_redis
def test_entries_expire_after_the_configured_age(keys_a, settings, monkeypatch):
    settings.API_KEY_CACHE_SECONDS = 60
    now = [1000.0]  # the cache's clock, stepped by hand: no sleep, no race with a slow machine
    monkeypatch.setattr(keycache.cache, "clock", lambda: now[0])
    client = client_for(keys_a.read.plaintext)
    assert _key_queries(client) == (200, 1)
    ApiKey.objects.filter(pk=keys_a.read.key.pk).update(revoked_at="2000-01-01T00:00:00Z")  # no signal, no bump
    assert client.get(PROBE).status_code == 200
    now[0] += 59  # still younger than the age limit: the cached (unrevoked) key is used
    assert client.get(PROBE).status_code == 200
    now[0] += 1  # as old as the limit: the entry is dropped and the revoked row read
    assert client.get(PROBE).status_code == 401


@requires_redis
def test_while_redis_is_unreachable_every_request_reads_the_key(keys_a, settings):
    client = client_for(keys_a.read.plaintext)
    assert _key_queries(client) == (200, 1)
    assert _key_queries(client) == (200, 0)
    ApiKey.objects.filter(pk=keys_a.read.key.pk).update(revoked_at="2000-01-01T00:00:00Z")
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens there: the generation cannot be checked
    redis_client.reset_for_tests()
    assert client.get(PROBE).status_code == 401
    ApiKey.objects.filter(pk=keys_a.read.key.pk).update(revoked_at=None)
    assert _key_queries(client) == (200, 1)
    assert _key_queries(client) == (200, 1)


def test_the_cache_can_be_turned_off(keys_a, settings):
    settings.API_KEY_CACHE_SECONDS = 0
    client = client_for(keys_a.read.plaintext)
    assert _key_queries(client) == (200, 1)
    assert _key_queries(client) == (200, 1)
    assert keycache.cache.get(keys_a.read.key.key_hash) is None


def test_without_a_configured_redis_nothing_is_cached(keys_a, settings):
    """The embedded mode (no REDIS_URL): no generation to check against, so every request reads its key."""
    settings.REDIS_URL = None
    redis_client.reset_for_tests()
    client = client_for(keys_a.read.plaintext)
    assert _key_queries(client) == (200, 1)
    assert _key_queries(client) == (200, 1)
    api_key_revoke(key=keys_a.read.key)
    assert client.get(PROBE).status_code == 401


@requires_redis
def test_a_refused_key_just_read_from_the_database_is_read_once(keys_a):
    """A cache miss reads the key once: a refusal (here the allowlist) is re-checked against the database only
    for a key that came from the cache, and a key read now is as current as a re-read would be."""
    ApiKey.objects.filter(pk=keys_a.read.key.pk).update(allowed_ips=["10.9.9.9"])
    keycache.cache.clear()
    client = client_for(keys_a.read.plaintext)
    assert _key_queries(client) == (403, 1)
    # from the cache now: the refusal is checked against the database (once) before it is answered
    assert _key_queries(client) == (403, 1)


@requires_redis
def test_a_known_key_costs_no_query_and_an_unknown_one_a_single_query(keys_a, django_assert_num_queries):
    client = client_for(keys_a.read.plaintext)
    keycache.cache.clear()
    with django_assert_num_queries(1):
        assert client.get(PROBE).status_code == 200
    with django_assert_num_queries(0):
        assert client.get(PROBE).status_code == 200
