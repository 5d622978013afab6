"""Usage counting on the request path and the periodic flush into hourly rows."""

from __future__ import annotations

import pytest
import redis

from apikeys import redis_client, tokens, usage
from apikeys.models import ApiKey, ApiKeyUsageHour
from apikeys.services import usage_flush
from apikeys.tasks import usage_flush as usage_flush_task
from tests.celery_worker import wait_for
from tests.conftest import client_for, requires_redis


def _key(issued) -> ApiKey:
    return ApiKey.objects.get(key_hash=tokens.digest(issued.plaintext))


@pytest.mark.django_db
def test_requests_are_counted_and_flushed_into_hourly_rows(keys_a, tenant_b, make_key):
    client = client_for(keys_a.admin.plaintext)
    for _ in range(3):
        assert client.get("/api/platform/v1/keys").status_code == 200
    assert client.post("/api/platform/v1/keys", {"name": ""}, format="json").status_code == 400
    assert usage_flush() >= 1
    key = _key(keys_a.admin)
    row = ApiKeyUsageHour.objects.get(key=key)
    assert (row.requests, row.errors_4xx, row.errors_5xx) == (4, 1, 0)
    key.refresh_from_db()
    assert key.last_used_at is not None and key.last_used_ip == "127.0.0.1"


@pytest.mark.django_db
def test_flush_twice_changes_nothing(keys_a):
    client = client_for(keys_a.admin.plaintext)
    client.get("/api/platform/v1/keys")
    usage_flush()
    usage_flush()
    assert ApiKeyUsageHour.objects.get(key=_key(keys_a.admin)).requests == 1


@pytest.mark.django_db
def test_usage_endpoint_reports_totals_and_recent_requests(keys_a):
    client = client_for(keys_a.admin.plaintext)
    client.get("/api/platform/v1/keys")
    key = _key(keys_a.admin)
    body = client.get(f"/api/platform/v1/keys/{key.pk}/usage").json()
    assert body["totals"]["requests"] >= 1
    assert body["recent"][0]["path"] == "/api/platform/v1/keys"
    assert body["recent"][0]["status"] == 200
    assert body["hourly"][0]["requests"] >= 1


def test_flush_task_runs_in_a_real_worker(live_celery_worker, tenant_a, make_key):
    issued = make_key(tenant_a, "admin")
    client_for(issued.plaintext).get("/api/platform/v1/keys")
    # the request is in this process's buffer until the writer thread's next turn (USAGE_BUFFER_SECONDS)
    assert wait_for(lambda: redis_client.get_client().exists(redis_client.key("usage:dirty")), timeout=10)
    usage_flush_task.delay()
    assert wait_for(lambda: ApiKeyUsageHour.objects.filter(key=_key(issued)).exists(), timeout=30)


@requires_redis
@pytest.mark.django_db
def test_buffered_requests_reach_redis_in_one_pipeline_per_interval(keys_a, settings, monkeypatch):
    """A request adds to the process buffer (no Redis call); the writer thread sends one pipeline per interval
    with the counts summed per key and hour, and the recent list in request order."""
    settings.USAGE_BUFFER_SECONDS = 30  # the thread will not wake during the test
    usage.write_buffer()
    pipelines = []
    real_execute = redis.client.Pipeline.execute

    def counting_execute(self, *args, **kwargs):
        pipelines.append(len(self.command_stack))
        return real_execute(self, *args, **kwargs)

    monkeypatch.setattr(redis.client.Pipeline, "execute", counting_execute)
    key = keys_a.read
    for n in range(5):
        usage.record(
            key_id=key.key.pk,
            lineage_id=str(key.key.lineage_id),
            status=200 if n else 404,
            method="GET",
            path=f"/p/{n}",
            ip="10.0.0.1",
        )
    assert pipelines == []
    usage.write_buffer()
    assert len(pipelines) == 1
    assert pipelines[0] == 8  # HINCRBY requests, HINCRBY errors_4xx, HSET, EXPIRE; SADD; LPUSH, LTRIM, EXPIRE
    rows = {(k, h): c for k, h, c in usage.pending({key.key.pk})}
    (counters,) = rows.values()
    assert counters["requests"] == "5" and counters["errors_4xx"] == "1"
    assert [r["path"] for r in usage.recent(str(key.key.lineage_id))][:5] == ["/p/4", "/p/3", "/p/2", "/p/1", "/p/0"]


@requires_redis
@pytest.mark.django_db
def test_the_writer_thread_sends_the_buffer_without_a_reader(keys_a, settings):
    settings.USAGE_BUFFER_SECONDS = 0.05
    key = keys_a.read.key
    usage.record(key_id=key.pk, lineage_id=str(key.lineage_id), status=200, method="GET", path="/x", ip=None)
    client = redis_client.get_client()
    assert wait_for(lambda: client.exists(redis_client.key("recent", str(key.lineage_id))), timeout=10)


@pytest.mark.django_db
def test_buffer_falls_back_to_memory_when_redis_is_down(keys_a, settings):
    key = keys_a.read.key
    usage.record(key_id=key.pk, lineage_id=str(key.lineage_id), status=500, method="GET", path="/x", ip=None)
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    redis_client.reset_for_tests()
    usage.write_buffer()
    (row,) = [c for k, _, c in usage.pending({key.pk})]
    assert row["requests"] == "1" and row["errors_5xx"] == "1"
