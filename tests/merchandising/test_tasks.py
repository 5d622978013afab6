"""Sort tasks: a sort in a real worker, the one-sort-at-a-time guard, removed collections,
the periodic re-sort, recorded changes and error states."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connection
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


def test_periodic_task_queues_every_enabled_collection_with_a_recipe(
    tenant_a, tenant_b, monkeypatch, django_capture_on_commit_callbacks
):
    a, _ = small_collection(tenant_a)
    make_collection(tenant_a, [], external_id=5, enabled=True)  # no recipe
    make_collection(tenant_a, [], external_id=6, recipe=a.recipe)  # not enabled
    b = make_collection(tenant_b, [], external_id=7, enabled=True, recipe=sales_recipe(tenant_b))
    sent = []
    monkeypatch.setattr(tasks.collection_sort, "delay", lambda pk: sent.append(pk))
    with django_capture_on_commit_callbacks(execute=True):  # sent once committed (core.outbox.enqueue)
        assert tasks.collections_resort_enabled.apply().get() == 2
    assert sorted(sent) == sorted([a.pk, b.pk])
    # already queued ones are not queued again within the hour
    assert tasks.collections_resort_enabled.apply().get() == 0


def test_a_second_sort_while_one_runs_ends_as_busy_and_changes_nothing(tenant_a):
    collection, _ = small_collection(tenant_a)
    Collection.objects.filter(pk=collection.pk).update(
        sort_state=SortState.RUNNING, sort_started_at=timezone.now(), sort_task_id="first"
    )
    assert services.collection_sort_run(collection_pk=collection.pk, task_id="second") == "busy"
    assert not SortRun.objects.exists() and order_of(collection) == [100, 101, 102]
    assert Collection.objects.get(pk=collection.pk).sort_state == SortState.RUNNING


def test_the_same_task_redelivered_after_a_crash_takes_its_claim_back(tenant_a):
    collection, _ = small_collection(tenant_a)
    Collection.objects.filter(pk=collection.pk).update(
        sort_state=SortState.RUNNING, sort_started_at=timezone.now(), sort_task_id="t-1"
    )
    assert services.collection_sort_run(collection_pk=collection.pk, task_id="t-1") == "done"
    assert Collection.objects.get(pk=collection.pk).sort_state == SortState.IDLE


def test_a_stale_running_claim_is_taken_over(tenant_a):
    collection, _ = small_collection(tenant_a)
    long_ago = timezone.now() - services.SORT_STALE_AFTER - timedelta(minutes=1)
    Collection.objects.filter(pk=collection.pk).update(sort_state=SortState.RUNNING, sort_started_at=long_ago)
    assert services.collection_sort_run(collection_pk=collection.pk) == "done"


def test_membership_changed_during_scoring_is_scored_again_under_the_lock(tenant_a, monkeypatch):
    collection, products = small_collection(tenant_a)
    real = services.sorting.recipe_order
    calls = []

    def recipe_order_then_sync(facts, weights):
        calls.append(len(facts))
        if len(calls) == 1:  # the shop drops a product while the first scoring runs
            CollectionProduct.objects.filter(collection=collection, product=products[1]).delete()
        return real(facts, weights)

    monkeypatch.setattr(services.sorting, "recipe_order", recipe_order_then_sync)
    assert services.collection_sort_run(collection_pk=collection.pk) == "done"
    assert calls == [3, 2] and order_of(collection) == [102, 100]


def test_periodic_resort_leaves_a_running_sort_alone(tenant_a, monkeypatch):
    collection, _ = small_collection(tenant_a)
    Collection.objects.filter(pk=collection.pk).update(sort_state=SortState.RUNNING, sort_started_at=timezone.now())
    monkeypatch.setattr(tasks.collection_sort, "delay", lambda pk: pytest.fail("queued a running collection"))
    assert services.collections_resort_enabled() == 0
    assert Collection.objects.get(pk=collection.pk).sort_state == SortState.RUNNING


@pytest.mark.django_db(transaction=True)
def test_a_sort_started_in_another_connection_makes_the_second_busy(tenant_a, monkeypatch):
    """Thread 1 (its own database connection) is in the middle of a sort; a sort from another
    connection meanwhile ends as busy; thread 1 then finishes and records its run."""
    if connection.vendor != "postgresql":
        pytest.skip("needs concurrent connections (PostgreSQL)")
    collection, _ = small_collection(tenant_a)
    scoring, proceed, outcomes = threading.Event(), threading.Event(), []
    real = services.selectors.collection_facts

    def slow_facts(**kwargs):
        if threading.current_thread().name == "first":
            scoring.set()
            proceed.wait(10)
        return real(**kwargs)

    monkeypatch.setattr(services.selectors, "collection_facts", slow_facts)

    def first() -> None:
        try:
            outcomes.append(services.collection_sort_run(collection_pk=collection.pk, task_id="t1"))
        finally:
            connection.close()

    thread = threading.Thread(target=first, name="first")
    thread.start()
    try:
        assert scoring.wait(10)
        assert services.collection_sort_run(collection_pk=collection.pk, task_id="t2") == "busy"
    finally:
        proceed.set()
        thread.join(30)
    assert outcomes == ["done"]
    assert SortRun.objects.filter(collection=collection).count() == 1


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


def test_option_sort_reads_only_the_rules_window(tenant_a):
    today = timezone.now().date()
    p = factories.product(tenant_a, external_id=300)
    factories.option(p, "Color", ["Red", "Blue"], external_id=301)
    red = factories.variant(p, option1="Red", inventory_quantity=1)
    blue = factories.variant(p, option1="Blue", inventory_quantity=1)
    factories.sale(red, on=today - timedelta(days=20), units=50)  # inside 30 days, outside 7
    factories.sale(blue, on=today, units=5)
    for days, expected in [("30", ["Red", "Blue"]), ("7", ["Blue", "Red"])]:
        services.product_enable(
            tenant=tenant_a,
            product_id=300,
            options=[{"option_id": 301, "option_name": "Color", "sort_type": "sales", "days": days}],
        )
        assert services.product_options_sort_run(product_pk=p.pk) == "done"
        p.options.get().refresh_from_db()
        assert p.options.get().values == expected, days


@pytest.mark.parametrize(
    ("weights", "expected"),
    [
        ({"margin": 1}, [201, 202, 200]),  # margins 0.5, 0.2 and none (no cost: left out -> 0 points)
        ({"discount": 1}, [200, 202, 201]),  # discounts 0.5, 0.1 (avg of 0.2 and 0), 0
        ({"inventory": 1}, [202, 201, 200]),  # 9+0, 3, untracked (left out)
    ],
)
def test_variant_metrics_read_by_the_database(tenant_a, weights, expected):
    products = [factories.product(tenant_a, external_id=200 + i) for i in range(3)]
    factories.variant(products[0], price="10.00", compare_at_price="20.00", inventory_tracked=False)
    factories.variant(products[1], price="10.00", cost="5.00", inventory_quantity=3)
    factories.variant(products[2], price="10.00", cost="8.00", compare_at_price="12.50", inventory_quantity=9)
    factories.variant(products[2], price="10.00", cost="8.00", inventory_quantity=-2)
    recipe = sales_recipe(tenant_a, **weights)
    collection = make_collection(tenant_a, products, external_id=77, enabled=True, recipe=recipe)
    assert services.collection_sort_run(collection_pk=collection.pk) == "done"
    assert order_of(collection) == expected


def test_a_sort_request_finding_another_sort_running_is_retried_later(tenant_a, monkeypatch):
    collection, _ = small_collection(tenant_a)
    Collection.objects.filter(pk=collection.pk).update(
        sort_state=SortState.RUNNING, sort_started_at=timezone.now(), sort_task_id="first"
    )
    retries = []

    def retry(**kwargs):
        retries.append(kwargs)
        return RuntimeError("retry")

    monkeypatch.setattr(tasks.collection_sort, "retry", retry)
    tasks.collection_sort.push_request(id="second", retries=0, is_eager=False)
    try:
        with pytest.raises(RuntimeError, match="retry"):
            tasks.collection_sort.run(collection.pk)
    finally:
        tasks.collection_sort.pop_request()
    assert retries == [{"countdown": 10}]
    tasks.collection_sort.push_request(id="second", retries=tasks.MAX_RETRIES, is_eager=False)
    try:
        assert tasks.collection_sort.run(collection.pk) == "busy"  # after the last retry it just ends
    finally:
        tasks.collection_sort.pop_request()
