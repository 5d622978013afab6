"""Sort tasks: a sort in a real worker, the one-sort-at-a-time guard, removed collections,
the periodic re-sort, recorded changes and error states."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone

from merchandising import services, tasks
from merchandising.models import Collection, CollectionProduct, SortRun, SortState
from tests import factories
from tests.celery_worker import wait_for
from tests.merchandising.conftest import make_collection, sales_recipe

pytestmark = pytest.mark.django_db


def order_of(collection) -> list[int]:
    return list(
        CollectionProduct.objects.filter(collection=collection)
        .order_by("position")
        .values_list("product__external_id", flat=True)
    )


def small_collection(tenant, units=(1, 5, 3), **fields):
    today = timezone.now().date()
    products = []
    for i, n in enumerate(units):
        p = factories.product(tenant, external_id=100 + i)
        v = factories.variant(p, inventory_quantity=2)
        factories.sale(v, on=today, units=n)
        factories.sale(v, on=today - timedelta(days=40), units=100 * (i == 0))  # outside a 30-day window
        products.append(p)
    recipe = sales_recipe(tenant)
    return make_collection(tenant, products, enabled=True, recipe=recipe, **fields), products


def test_sort_orders_by_units_in_window_and_records_the_run(tenant_a):
    collection, _ = small_collection(tenant_a)
    assert services.collection_sort_run(collection_pk=collection.pk) == "done"
    assert order_of(collection) == [101, 102, 100]
    collection.refresh_from_db()
    run = SortRun.objects.get()
    assert (run.kind, run.recipe_id, run.moves, run.product_count) == ("recipe", collection.recipe_id, 1, 3)
    assert run.moved_products == [100]
    assert collection.last_sorted_at == run.started_at and collection.last_sort_recipe_id == collection.recipe_id
    assert collection.manual_order == [100, 101, 102]  # snapshot of the order before the first sort


def test_manual_revert_restores_the_order_before_the_first_sort(tenant_a):
    collection, _ = small_collection(tenant_a, revert_sorting="manual")
    services.collection_sort_run(collection_pk=collection.pk)
    services.collection_sort_run(collection_pk=collection.pk)
    services.collection_revert(tenant=tenant_a, collection_id=collection.external_id)
    assert order_of(collection) == [100, 101, 102]


def test_sold_out_product_sinks_and_boost_moves_up(tenant_a):
    collection, products = small_collection(tenant_a)
    products[1].variants.update(inventory_quantity=0)
    services.product_boost_set(tenant=tenant_a, product_id=100, boost=80)
    services.collection_sort_run(collection_pk=collection.pk)
    # sales ranks over the collection: 100 -> 0, 101 -> 1, 102 -> 0.5. 101 sold most but is sold out and
    # sinks; 100 scores 0 + 80 boost and passes 102's 50.
    assert order_of(collection) == [100, 102, 101]
    scores = dict(CollectionProduct.objects.filter(collection=collection).values_list("product__external_id", "score"))
    assert scores == {100: 80.0, 101: 100.0, 102: 50.0}


def test_disabled_or_removed_collection_ends_cleanly(tenant_a):
    collection, _ = small_collection(tenant_a)
    Collection.objects.filter(pk=collection.pk).update(enabled=False, sort_state=SortState.QUEUED)
    assert tasks.collection_sort.apply(args=[collection.pk]).get() == "skipped"
    assert Collection.objects.get(pk=collection.pk).sort_state == SortState.IDLE
    pk = collection.pk
    collection.delete()
    assert tasks.collection_sort.apply(args=[pk]).get() == "gone"


def test_failure_leaves_a_visible_error_state(tenant_a, monkeypatch):
    collection, _ = small_collection(tenant_a)

    def boom(*args, **kwargs):
        raise RuntimeError("engine exploded")

    monkeypatch.setattr(services.sorting, "recipe_order", boom)
    with pytest.raises(RuntimeError):
        tasks.collection_sort.apply(args=[collection.pk], throw=True)
    collection.refresh_from_db()
    assert collection.sort_state == SortState.ERROR and "engine exploded" in collection.sort_error


def test_periodic_task_queues_every_enabled_collection_with_a_recipe(tenant_a, tenant_b, monkeypatch):
    a, _ = small_collection(tenant_a)
    make_collection(tenant_a, [], external_id=5, enabled=True)  # no recipe
    make_collection(tenant_a, [], external_id=6, recipe=a.recipe)  # not enabled
    b = make_collection(tenant_b, [], external_id=7, enabled=True, recipe=sales_recipe(tenant_b))
    sent = []
    monkeypatch.setattr(tasks.collection_sort, "delay", lambda pk: sent.append(pk))
    assert tasks.collections_resort_enabled.apply().get() == 2
    assert sorted(sent) == sorted([a.pk, b.pk])
    # already queued ones are not queued again within the hour
    assert tasks.collections_resort_enabled.apply().get() == 0


@pytest.mark.django_db(transaction=True)
def test_a_second_sort_of_a_locked_collection_ends_as_busy(tenant_a):
    if connection.vendor != "postgresql":
        pytest.skip("row locks need PostgreSQL")
    collection, _ = small_collection(tenant_a)
    locked, release = threading.Event(), threading.Event()

    def hold_lock():
        with transaction.atomic():
            Collection.objects.select_for_update().get(pk=collection.pk)
            locked.set()
            release.wait(10)
        connection.close()

    holder = threading.Thread(target=hold_lock)
    holder.start()
    try:
        assert locked.wait(10)
        assert services.collection_sort_run(collection_pk=collection.pk) == "busy"
        assert not SortRun.objects.exists()
    finally:
        release.set()
        holder.join()
    assert services.collection_sort_run(collection_pk=collection.pk) == "done"


def test_sort_runs_in_a_live_worker(live_celery_worker, tenant_a, keys_a, dynasort):
    collection, _ = small_collection(tenant_a)
    response = dynasort.post("/api/v1/", {"action": "sort_collection", "collection_id": 999}, format="json")
    assert response.status_code == 404
    collection.external_id = 999
    collection.save()
    response = dynasort.post("/api/v1/", {"action": "sort_collection", "collection_id": 999}, format="json")
    assert response.status_code == 200 and response.json()["data"]["status"] == "queued"
    assert wait_for(lambda: SortRun.objects.filter(collection=collection).exists(), timeout=60)
    assert order_of(collection) == [101, 102, 100]
    collection.refresh_from_db()
    assert collection.sort_state == SortState.IDLE and collection.last_sorted_at is not None
