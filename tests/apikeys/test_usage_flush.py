"""Usage counting on the request path and the periodic flush into hourly rows."""

from __future__ import annotations

import pytest

from apikeys import tokens
from apikeys.models import ApiKey, ApiKeyUsageHour
from apikeys.services import usage_flush
from apikeys.tasks import usage_flush as usage_flush_task
from tests.celery_worker import wait_for
from tests.conftest import client_for


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
    usage_flush_task.delay()
    assert wait_for(lambda: ApiKeyUsageHour.objects.filter(key=_key(issued)).exists(), timeout=30)
