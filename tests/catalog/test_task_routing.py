"""Catalogue tasks routed by tenant (CATALOG_QUEUES): one queue changes nothing; with several, a tenant's
tasks always go to the same queue, tenants spread evenly, and adding a queue moves few tenants."""

from __future__ import annotations

from collections import Counter

from config.celery import TENANT_ARG, app, catalog_queue, route_task


def queue_of(name: str, args: tuple, kwargs: dict | None = None) -> str:
    """The queue Celery's own router picks for a task sent with ``args`` (what ``delay`` and ``send_task`` use)."""
    return app.amqp.router.route({}, name, args, kwargs or {})["queue"].name


def test_one_catalogue_queue_leaves_every_task_on_the_default_queue(settings):
    settings.CATALOG_QUEUES = 1
    assert catalog_queue(42) == settings.CELERY_TASK_DEFAULT_QUEUE
    for name in TENANT_ARG:
        assert route_task(name, (7, 42), {}, {}) is None
        assert queue_of(name, (7, 42)) == settings.CELERY_TASK_DEFAULT_QUEUE


def test_a_tenant_s_catalogue_tasks_share_one_queue(settings):
    settings.CATALOG_QUEUES = 8
    queue = catalog_queue(42)
    assert queue.startswith(f"{settings.CELERY_TASK_DEFAULT_QUEUE}.catalog.")
    assert queue_of("catalog.tasks.products_embed", (42, [1, 2])) == queue
    assert queue_of("catalog.tasks.recommendations_chunk", (42, [3])) == queue
    assert queue_of("catalog.tasks.category_suggestions_chunk", (42, [3])) == queue
    assert queue_of("catalog.tasks.category_suggestions_refresh", (42,)) == queue
    assert queue_of("catalog.tasks.product_recommend", (9001, 42)) == queue
    assert queue_of("catalog.tasks.recommendations_chunk", (), {"tenant_id": 42, "product_ids": [3]}) == queue


def test_tasks_without_a_tenant_stay_on_the_default_queue(settings):
    settings.CATALOG_QUEUES = 8
    default = settings.CELERY_TASK_DEFAULT_QUEUE
    assert queue_of("catalog.tasks.product_recommend", (9001,)) == default  # as an older release queued it
    assert queue_of("merchandising.tasks.collection_sort", (42,)) == default
    assert queue_of("catalog.tasks.webhook_process", (42,)) == default


def test_the_mapping_is_stable_across_processes_and_releases():
    # Fixed values: a change of hash would move every tenant's indexes to another worker at deploy time.
    assert [catalog_queue(t, 8).rsplit(".", 1)[1] for t in (1, 2, 3, 42, 1000)] == ["3", "3", "2", "7", "0"]
    assert all(catalog_queue(t, 8) == catalog_queue(t, 8) for t in range(100))


def test_tenants_spread_evenly_over_the_queues():
    counts = Counter(catalog_queue(t, 4) for t in range(1, 1001))
    assert len(counts) == 4
    assert all(200 <= n <= 300 for n in counts.values()), counts  # 250 each expected


def test_adding_a_queue_moves_only_the_tenants_the_new_queue_takes():
    before = {t: catalog_queue(t, 4) for t in range(1, 1001)}
    after = {t: catalog_queue(t, 5) for t in range(1, 1001)}
    moved = [t for t in before if before[t] != after[t]]
    assert all(after[t].endswith(".catalog.4") for t in moved)  # only to the new queue, never between old ones
    assert 120 <= len(moved) <= 280  # about a fifth (a modulo would move about four fifths)
