"""The sweeper (Celery beat): nothing a committed write queued is left undone after a broker outage.

It publishes the task outbox rows older than TASK_OUTBOX_RETRY_SECONDS (their publish failed, or the
process died between the commit and the publish), and queues again the work whose state says "waiting"
for longer than TASK_STUCK_SECONDS (a task lost by the broker itself, e.g. a Redis restarted without
persistence): products in ``recommending_products``, collections and product option sorts ``queued``, and
writebacks to the store that wait or whose sender died.
Every task is safe to run twice, so a task sent again that was only slow does no harm.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone

from core.models import TaskOutbox
from core.outbox import publish

log = logging.getLogger("config.tasks")

BATCH = 1000


def _outbox_sweep(now) -> int:
    cutoff = now - timedelta(seconds=settings.TASK_OUTBOX_RETRY_SECONDS)
    sent, last = 0, 0
    while True:  # in batches, until the rows older than the cutoff are sent (a long outage leaves many)
        rows = list(TaskOutbox.objects.filter(created_at__lte=cutoff, pk__gt=last).order_by("pk")[:BATCH])
        for row in rows:
            if not publish(row.task, row.args, outbox_id=row.pk, force=True):
                TaskOutbox.objects.filter(pk=row.pk).update(attempts=F("attempts") + 1)
                return sent  # the broker is still away: the next sweep tries again
            sent += 1
        if len(rows) < BATCH:
            return sent
        last = rows[-1].pk


def _stuck_sweep(now) -> int:
    from catalog.models import Product, ProductState
    from merchandising.models import Collection, ProductSetting, SortState

    cutoff = now - timedelta(seconds=settings.TASK_STUCK_SECONDS)
    work: list[tuple[str, list[int]]] = [
        ("catalog.tasks.product_recommend", [pk, tenant_id])  # the tenant id routes it to the tenant's queue
        for pk, tenant_id in Product.objects.filter(state=ProductState.RECOMMENDING, state_changed_at__lte=cutoff)
        .order_by("pk")
        .values_list("pk", "tenant_id")[:BATCH]
    ]
    work += [
        ("merchandising.tasks.collection_sort", [pk])
        for pk in Collection.objects.filter(sort_state=SortState.QUEUED, sort_requested_at__lte=cutoff)
        .order_by("pk")
        .values_list("pk", flat=True)[:BATCH]
    ]
    work += [
        ("merchandising.tasks.product_options_sort", [product_id])
        for product_id in ProductSetting.objects.filter(option_sort_state=SortState.QUEUED, updated_at__lte=cutoff)
        .order_by("pk")
        .values_list("product_id", flat=True)[:BATCH]
    ]
    work += [("merchandising.tasks.store_writeback_send", [pk]) for pk in _stuck_writebacks(now, cutoff)]
    sent = 0
    for name, args in work:
        if not publish(name, args, force=True):
            break
        sent += 1
    if work:
        log.warning("re-queued %s of %s tasks waiting longer than %ss", sent, len(work), settings.TASK_STUCK_SECONDS)
    return sent


def _stuck_writebacks(now, cutoff) -> list[int]:
    """Writebacks to the store whose task is gone: "sending" with no progress for SENDING_STALE_AFTER (a dead
    worker; the task takes such a claim over), and "pending" since before ``cutoff`` with nothing of their
    collection or product being sent (one waiting behind a live send is queued when that one ends)."""
    from merchandising.models import StoreWriteback, WritebackState
    from merchandising.store_writeback import SENDING_STALE_AFTER

    live = StoreWriteback.objects.filter(state=WritebackState.SENDING, updated_at__gt=now - SENDING_STALE_AFTER)
    behind_live = Exists(live.filter(collection_id=OuterRef("collection_id"))) | Exists(
        live.filter(product_id=OuterRef("product_id"))
    )
    stale = Q(state=WritebackState.SENDING, updated_at__lte=now - SENDING_STALE_AFTER)
    lost = Q(state=WritebackState.PENDING, updated_at__lte=cutoff) & ~behind_live
    return list(StoreWriteback.objects.filter(stale | lost).order_by("pk").values_list("pk", flat=True)[:BATCH])


@shared_task(ignore_result=True)
def tasks_sweep() -> int:
    """Periodic (beat, every TASK_SWEEP_SECONDS): publish what the outbox holds and re-queue stuck work."""
    now = timezone.now()
    return _outbox_sweep(now) + _stuck_sweep(now)
