"""The rate limiter under concurrent load from several client processes against several web processes
(two gunicorn servers, two workers each) sharing a Redis server of the test's own, which the test stops
mid-run and starts again."""

from __future__ import annotations

import multiprocessing
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime

import pytest
from django.db import connection

from apikeys import redis_client
from tests.celery_worker import wait_for
from tests.reliability.loadclient import burst, http
from tests.reliability.servers import RedisServer, WebServer, database_url_of_tests, redis_available

pytestmark = pytest.mark.django_db(transaction=True)

PROBE = "/api/external/v1/stats"


def fire(urls: list[str], key: str, total: int, processes: int = 3) -> list[tuple[int, dict[str, str]]]:
    jobs = [(urls, PROBE, key, total // processes)] * processes
    with ProcessPoolExecutor(processes, mp_context=multiprocessing.get_context("spawn")) as pool:
        return [r for batch in pool.map(burst, jobs) for r in batch]


@pytest.fixture
def stack(transactional_db) -> Iterator[tuple[RedisServer, list[WebServer]]]:
    if connection.vendor != "postgresql" or not redis_available():
        pytest.skip("needs PostgreSQL and redis-server")
    redis = RedisServer()
    servers: list[WebServer] = []
    try:
        for _ in range(2):
            servers.append(WebServer(database_url=database_url_of_tests(), redis_url=redis.url, workers=2))
        yield redis, servers
    finally:
        for server in servers:
            server.stop()
        redis.stop()


def test_limit_is_exact_under_concurrency_falls_back_without_redis_and_resumes(stack, make_key, tenant_a):
    redis, servers = stack
    urls = [s.url for s in servers]

    # 1. Redis up: 60 concurrent requests from 3 client processes over 4 web processes, limit 20.
    key = make_key(tenant_a, "read", rate_limit=20, rate_limit_window=3600)
    results = fire(urls, key.plaintext, 60)
    statuses = Counter(status for status, _ in results)
    assert statuses == {200: 20, 429: 40}, statuses
    assert {h["X-RateLimit-Limit"] for _, h in results} == {"20"}
    admitted = sorted(int(h["X-RateLimit-Remaining"]) for status, h in results if status == 200)
    assert admitted == list(range(20))  # each admitted request saw its own count: no double counting
    refused = [h for status, h in results if status == 429]
    assert all(h["X-RateLimit-Remaining"] == "0" and int(h["Retry-After"]) >= 1 for h in refused)
    for _, h in results:  # ShopiSync: ISO 8601 reset within the window
        reset = datetime.fromisoformat(h["X-RateLimit-Reset"].replace("Z", "+00:00"))
        assert 0 <= (reset - datetime.now(UTC)).total_seconds() <= 3600 + 5

    # 2. Redis stopped mid-run: no 5xx; each process limits in memory (never unlimited); /readyz says so.
    redis.stop()
    key2 = make_key(tenant_a, "read", rate_limit=5, rate_limit_window=3600)
    results = fire(urls, key2.plaintext, 60)
    statuses = Counter(status for status, _ in results)
    assert set(statuses) <= {200, 429}, statuses
    assert 5 <= statuses[200] <= 5 * 4, statuses  # at most the limit in each of the 4 web processes
    assert {h["X-RateLimit-Limit"] for _, h in results} == {"5"}
    for url in urls:
        status, _, body = http("GET", url + "/readyz")
        assert status == 503 and body["checks"]["redis"]["ok"] is False
        assert body["checks"]["database"]["ok"] is True
    logs = "".join(s.output() for s in servers)
    assert "Redis unreachable" in logs

    # 3. Redis back (empty: no persistence): once the breaker's pause is over, limits are shared again.
    redis.start()
    back_at = time.monotonic()
    assert wait_for(lambda: time.monotonic() > back_at + redis_client._RETRY_AFTER + 0.5, timeout=30)
    assert all(http("GET", url + "/readyz")[0] == 200 for url in urls)
    warm = make_key(tenant_a, "read", rate_limit=1000)
    fire(urls, warm.plaintext, 24)  # every web process talks to Redis again
    key3 = make_key(tenant_a, "read", rate_limit=10, rate_limit_window=3600)
    results = fire(urls, key3.plaintext, 45)
    statuses = Counter(status for status, _ in results)
    assert statuses == {200: 10, 429: 35}, statuses
    assert sorted(int(h["X-RateLimit-Remaining"]) for s, h in results if s == 200) == list(range(10))
