"""Idempotency-Key on every surface: a repeat is replayed, a different body is 422, a copy in flight is 409,
keys expire, refused and failed requests hold no key, tenants and key lineages never share one; and concurrent
duplicates against a live server run the write exactly once on every surface."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from apikeys import idempotency
from apikeys.models import ApiKey, IdempotencyRecord
from catalog.models import Product
from merchandising.models import SortRun
from tests import factories
from tests.merchandising.conftest import make_collection, sales_recipe

pytestmark = pytest.mark.django_db


def _post(client, path: str, body, key: str | None, method: str = "post"):
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key is not None else {}
    return getattr(client, method)(path, body, format="json", **headers)


def test_a_repeat_is_replayed_and_runs_once(api, keys_a):
    admin = api(keys_a.admin.plaintext)
    first = _post(admin, "/api/platform/v1/keys", {"name": "ci"}, "create-ci-key")
    again = _post(admin, "/api/platform/v1/keys", {"name": "ci"}, "create-ci-key")
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() and again["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first
    assert ApiKey.objects.filter(name="ci").count() == 1


def test_without_the_header_nothing_changes(api, keys_a):
    admin = api(keys_a.admin.plaintext)
    for _ in range(2):
        assert _post(admin, "/api/platform/v1/keys", {"name": "ci"}, None).status_code == 201
    assert ApiKey.objects.filter(name="ci").count() == 2
    assert not IdempotencyRecord.objects.exists()


@pytest.mark.parametrize(
    ("client_fixture", "path", "body", "other", "status", "check"),
    [
        (
            "dynasort",
            "/api/v1/",
            {"action": "set_product_boost", "product_id": 1, "boost": 5},
            {"boost": 6},
            422,
            lambda b: b["code"] == "idempotency_key_reused",
        ),
        (
            "sortillus",
            "/api/v3/products",
            {"product": {"name": "x"}},
            {"product": {"name": "y"}},
            422,
            lambda b: set(b) == {"error"},
        ),
        (
            "admin_platform",
            "/api/platform/v1/keys",
            {"name": "a"},
            {"name": "b"},
            422,
            lambda b: b["code"] == "IDEMPOTENCY_KEY_REUSED",
        ),
    ],
)
def test_the_same_key_with_another_body_is_a_422_in_the_surface_form(
    request, client_fixture, path, body, other, status, check
):
    client = request.getfixturevalue(client_fixture)
    _post(client, path, body, "k-1")
    response = _post(client, path, {**body, **other}, "k-1")
    assert response.status_code == status and check(response.json()), response.content


@pytest.fixture
def admin_platform(api, keys_a):
    return api(keys_a.admin.plaintext)


def test_a_copy_while_the_first_runs_is_a_409(api, keys_a):
    path, body = "/api/platform/v1/keys", {"name": "ci"}
    raw = json.dumps(body, separators=(",", ":")).encode()  # as the test client sends it
    idempotency.begin(key=keys_a.admin.key, method="POST", path=path, header="k-3", body=raw)  # still running
    response = _post(api(keys_a.admin.plaintext), path, body, "k-3")
    assert response.status_code == 409 and response.json()["code"] == "IDEMPOTENCY_KEY_IN_USE"
    assert not ApiKey.objects.filter(name="ci").exists()


def test_expired_or_abandoned_keys_are_free_again(api, keys_a, settings):
    admin = api(keys_a.admin.plaintext)
    _post(admin, "/api/platform/v1/keys", {"name": "ci"}, "k-4")
    IdempotencyRecord.objects.update(
        created_at=timezone.now() - timedelta(seconds=settings.IDEMPOTENCY_KEY_TTL_SECONDS + 1)
    )
    assert "Idempotent-Replayed" not in _post(admin, "/api/platform/v1/keys", {"name": "ci"}, "k-4")
    assert ApiKey.objects.filter(name="ci").count() == 2
    assert idempotency.purge(now=timezone.now() + timedelta(days=2)) == 1


def test_a_refused_request_holds_no_key(api, keys_a):
    read = api(keys_a.read.plaintext)
    assert _post(read, "/api/platform/v1/keys", {"name": "ci"}, "k-5").status_code == 403
    assert not IdempotencyRecord.objects.exists()
    admin = api(keys_a.admin.plaintext)
    assert _post(admin, "/api/platform/v1/keys", {"name": "ci"}, "k-5").status_code == 201


def test_a_client_error_is_stored_and_replayed(api, keys_a):
    admin = api(keys_a.admin.plaintext)
    first = _post(admin, "/api/platform/v1/keys", {"name": ""}, "k-6")
    again = _post(admin, "/api/platform/v1/keys", {"name": ""}, "k-6")
    assert first.status_code == again.status_code == 400 and again["Idempotent-Replayed"] == "true"


@pytest.mark.parametrize("value", ["", "x" * 256, "naïve", "tab\there"])
def test_a_malformed_key_is_a_400(api, keys_a, value):
    response = _post(api(keys_a.admin.plaintext), "/api/platform/v1/keys", {"name": "ci"}, value)
    assert response.status_code == 400 and response.json()["code"] == "VALIDATION_ERROR"
    assert not ApiKey.objects.filter(name="ci").exists()


def test_a_quoted_key_is_the_same_key(api, keys_a):
    admin = api(keys_a.admin.plaintext)
    _post(admin, "/api/platform/v1/keys", {"name": "ci"}, '"k-7"')
    assert _post(admin, "/api/platform/v1/keys", {"name": "ci"}, "k-7")["Idempotent-Replayed"] == "true"


def test_reads_ignore_the_header(api, keys_a):
    response = api(keys_a.admin.plaintext).get("/api/platform/v1/keys", HTTP_IDEMPOTENCY_KEY="k-8")
    assert response.status_code == 200 and not IdempotencyRecord.objects.exists()


def test_tenants_and_key_lineages_never_share_a_key(api, keys_a, keys_b):
    for key in (keys_a.admin, keys_b.admin):
        response = _post(api(key.plaintext), "/api/platform/v1/keys", {"name": "ci"}, "shared-key")
        assert response.status_code == 201 and "Idempotent-Replayed" not in response
    # another key of tenant A (another lineage) does not replay A's admin key's result
    write = _post(api(keys_a.write.plaintext), "/api/platform/v1/products", {"products": [{"id": 1}]}, "shared-key")
    assert "Idempotent-Replayed" not in write
    assert ApiKey.objects.filter(name="ci").count() == 2


def test_a_rotated_key_keeps_its_keys(api, keys_a):
    admin = api(keys_a.admin.plaintext)
    first = _post(admin, "/api/platform/v1/keys", {"name": "ci"}, "k-9")
    rotated = admin.post(f"/api/platform/v1/keys/{keys_a.admin.key.pk}/rotate", {"grace_seconds": 60}, format="json")
    new = api(rotated.json()["key"])
    again = _post(new, "/api/platform/v1/keys", {"name": "ci"}, "k-9")
    assert again["Idempotent-Replayed"] == "true" and again.json() == first.json()


# ---- concurrent duplicates against a live server ---------------------------------------------------------


def _send(url: str, method: str, key: str, body: dict, idem: str) -> tuple[int, dict, bytes]:
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method=method)  # noqa: S310
    request.add_header("Authorization", f"Bearer {key}")
    request.add_header("Content-Type", "application/json")
    request.add_header("Idempotency-Key", idem)
    try:
        with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def _at_once(n: int, call) -> list[tuple[int, dict, bytes]]:
    barrier = threading.Barrier(n)
    results: list = [None] * n

    def run(i: int) -> None:
        barrier.wait()
        results[i] = call()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


@pytest.fixture
def live_server_pg(transactional_db):
    if connection.vendor != "postgresql":
        pytest.skip("concurrent requests against a live server need PostgreSQL")
    from tests.reliability.servers import WebServer, database_url_of_tests

    server = WebServer(database_url=database_url_of_tests(), redis_url=None, workers=2, GUNICORN_CMD_ARGS="--threads 4")
    yield server
    server.stop()


def _setup_shop(tenant):
    product = factories.product(tenant, external_id=4242)
    factories.variant(product, inventory_quantity=1, external_id=42421)
    collection = make_collection(tenant, [product], external_id=777, enabled=True, recipe=sales_recipe(tenant))
    return product, collection


@pytest.mark.django_db(transaction=True)
def test_concurrent_duplicates_run_exactly_once_on_every_surface(live_server_pg, keys_a, tenant_a):
    _, collection = _setup_shop(tenant_a)
    cases = [
        (
            "keys",
            "POST",
            "/api/platform/v1/keys",
            keys_a.admin,
            {"name": "dup"},
            lambda: ApiKey.objects.filter(name="dup").count(),
        ),
        (
            "sortillus",
            "POST",
            "/api/v3/products",
            keys_a.write,
            {"product": {"name": "Dup", "id": 9_999_001}},
            lambda: Product.objects.filter(external_id=9_999_001).count(),
        ),
        (
            "dynasort",
            "POST",
            "/api/v1/",
            keys_a.connector,
            {"action": "sort_collection", "collection_id": 777},
            lambda: SortRun.objects.filter(collection=collection).count(),
        ),
        # a settings write is idempotent by itself: that it ran once shows in the answers (one not replayed)
        ("shopisync", "PUT", "/api/external/v1/products/4242", keys_a.write, {"costPrice": "3.21"}, None),
    ]
    for name, method, path, key, body, executions in cases:
        url, idem = live_server_pg.url + path, f"dup-{name}"
        results = _at_once(
            6,
            lambda url=url, method=method, key=key, body=body, idem=idem: _send(url, method, key.plaintext, body, idem),
        )
        statuses = sorted(status for status, _, _ in results)
        done = [(s, b) for s, h, b in results if s != 409]
        assert done and all(s < 300 for s, _ in done), (name, statuses, results[0][2][:300])
        assert len({b for _, b in done}) == 1, (name, "replays differ from the first answer")
        assert all(s in (200, 201, 202, 409) for s in statuses), (name, statuses)
        first_answers = [h for s, h, _ in results if s != 409 and h.get("Idempotent-Replayed") != "true"]
        assert len(first_answers) == 1, (name, statuses)
        assert executions is None or executions() == 1, (name, executions(), statuses)
        # once done, a repeat is a replay
        status, headers, _ = _send(live_server_pg.url + path, method, key.plaintext, body, f"dup-{name}")
        assert headers.get("Idempotent-Replayed") == "true" and status < 300, (name, status)
