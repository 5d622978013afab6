"""A Celery worker killed (SIGKILL) in the middle of a collection sort or a recommendation run, then
restarted: the task is redelivered (acks late), finishes, and nothing is left "running".

To kill the worker at a known point without timing, the test holds a lock on a table only the task
writes (sort runs for the sort, recommendations for the recommendation run; API requests never write
them) and waits until the worker's database session is blocked on it: the sort has then claimed the
collection and scored it, the recommendation run has computed its result and holds the product's row."""

from __future__ import annotations

import time

import psycopg
import pytest
from django.conf import settings

from catalog.models import Product
from merchandising.models import Collection, Recipe, SortRun
from tests import factories
from tests.celery_worker import restart, wait_for
from tests.conftest import client_for
from tests.merchandising.conftest import make_collection

pytestmark = pytest.mark.django_db(transaction=True)


def blocker(*, autocommit: bool = False) -> psycopg.Connection:
    db = settings.DATABASES["default"]
    return psycopg.connect(
        host=db["HOST"] or "127.0.0.1",
        port=db["PORT"] or 5432,
        user=db["USER"],
        dbname=db["NAME"],
        autocommit=autocommit,
    )


def waiting_on_lock(conn: psycopg.Connection, table: str) -> bool:
    with conn.cursor() as cur:  # another connection than the lock holder's, so it sees the wait
        cur.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND wait_event_type = 'Lock' AND query ILIKE %s",
            [f"%{table}%"],
        )
        return cur.fetchone()[0] > 0


VISIBILITY = 2


@pytest.fixture
def fast_redelivery(monkeypatch):
    """The restarted worker redelivers unacknowledged tasks after 2 s instead of 15 minutes."""
    monkeypatch.setenv("CELERY_VISIBILITY_TIMEOUT", str(VISIBILITY))


def restart_after_visibility(worker):
    """kombu scans for tasks to redeliver when a worker starts (then only every ~100 s): start the new
    worker once the dead one's task is older than the visibility timeout."""
    killed = time.time()
    wait_for(lambda: time.time() > killed + VISIBILITY + 1, timeout=VISIBILITY + 5)
    return restart(worker)


def test_sort_interrupted_by_a_killed_worker_finishes_after_restart(
    live_celery_worker, fast_redelivery, tenant_a, keys_a
):
    products = [factories.product(tenant_a, name=f"P{i}") for i in range(4)]
    for i, p in enumerate(products):
        factories.variant(p, price="10.00", inventory_quantity=i + 1)
    recipe = Recipe.objects.for_tenant(tenant_a).get(name="Best sellers (30 days)")
    collection = make_collection(tenant_a, products, external_id=4242, enabled=True, recipe=recipe)

    holder, watcher = blocker(), blocker(autocommit=True)  # pg_stat_activity is a snapshot per transaction
    worker = live_celery_worker
    try:
        with holder.cursor() as cur:
            cur.execute("LOCK TABLE merchandising_sortrun IN SHARE ROW EXCLUSIVE MODE")
        response = client_for(keys_a.connector.plaintext).post(
            "/api/v1/", {"action": "sort_collection", "collection_id": 4242}, format="json"
        )
        assert response.status_code == 200, response.content
        assert wait_for(lambda: waiting_on_lock(watcher, "merchandising_sortrun"), timeout=60)
        worker.kill()
        holder.rollback()
        assert Collection.objects.get(pk=collection.pk).sort_state == "running"  # the dead worker's claim
        worker = restart_after_visibility(worker)
        assert wait_for(lambda: SortRun.objects.filter(collection=collection).exists(), timeout=90)
        assert wait_for(lambda: Collection.objects.get(pk=collection.pk).sort_state == "idle", timeout=30), (
            Collection.objects.get(pk=collection.pk).sort_state
        )
    finally:
        holder.close()
        watcher.close()
        if worker is not live_celery_worker:
            worker.process.terminate()
            worker.process.wait(timeout=20)
    collection.refresh_from_db()
    assert collection.last_sorted_at is not None and collection.sort_error == ""
    assert SortRun.objects.filter(collection=collection).count() == 1  # the redelivered task sorted once
    assert sorted(collection.memberships.values_list("position", flat=True)) == list(range(4))


def test_recommendation_interrupted_by_a_killed_worker_finishes_after_restart(
    live_celery_worker, fast_redelivery, tenant_a, keys_a
):
    products = [factories.product(tenant_a, name=f"Lamp {i}", description="a lamp") for i in range(4)]
    for p in products:
        factories.variant(p, price="10.00", inventory_quantity=3)
    target = products[0]

    holder, watcher = blocker(), blocker(autocommit=True)  # pg_stat_activity is a snapshot per transaction
    worker = live_celery_worker
    try:
        with holder.cursor() as cur:
            cur.execute("LOCK TABLE catalog_recommendation IN SHARE ROW EXCLUSIVE MODE")
        response = client_for(keys_a.write.plaintext).post(f"/api/v3/products/{target.pk}/recommend", format="json")
        assert response.status_code == 200, response.content
        assert wait_for(lambda: waiting_on_lock(watcher, "catalog_recommendation"), timeout=60)
        worker.kill()
        holder.rollback()
        assert Product.objects.get(pk=target.pk).state == "recommending_products"
        worker = restart_after_visibility(worker)
        assert wait_for(lambda: Product.objects.get(pk=target.pk).state != "recommending_products", timeout=90)
    finally:
        holder.close()
        watcher.close()
        if worker is not live_celery_worker:
            worker.process.terminate()
            worker.process.wait(timeout=20)
    target.refresh_from_db()
    assert target.state == "recommended_products", (target.state, target.last_error)
