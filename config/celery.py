"""The Celery application: Redis broker when REDIS_URL is set, eager otherwise, and the routing of
catalogue tasks to their tenant's queue.

It is the default app of every thread, so the ground floor (``core.outbox``: queueing from a write;
``core.retry``: the retry policy) reaches it as Celery's ``current_app`` without importing this package.
"""

from __future__ import annotations

import hashlib
import os
from typing import Any

from celery import Celery
from django.conf import settings

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("platform")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.set_default()  # every thread's current_app (core.outbox), not only the importing one's
app.autodiscover_tasks()

# Catalogue tasks and where their tenant id is among their arguments: with CATALOG_QUEUES > 1 each goes to its
# tenant's queue, so a worker consuming some of those queues builds and keeps only those tenants' indexes
# (catalog/index.py) instead of every tenant's. Others stay on the default queue (product_recommend too when
# sent without its tenant id, as by an older release).
TENANT_ARG = {
    "catalog.tasks.products_embed": 0,
    "catalog.tasks.recommendations_chunk": 0,
    "catalog.tasks.category_suggestions_chunk": 0,
    "catalog.tasks.category_suggestions_refresh": 0,
    "catalog.tasks.product_recommend": 1,
}


def _jump_hash(key: int, buckets: int) -> int:
    """Jump consistent hash (Lamping and Veach, 2014): going from N to N+1 buckets moves only 1/(N+1) of
    the keys, so adding a catalogue queue leaves most tenants' indexes warm where they are."""
    b, j = -1, 0
    while j < buckets:
        b = j
        key = (key * 2862933555777941757 + 1) & 0xFFFFFFFFFFFFFFFF
        j = int((b + 1) * (float(1 << 31) / float((key >> 33) + 1)))
    return b


def catalog_queue(tenant_id: int, queues: int | None = None) -> str:
    """The queue of a tenant's catalogue tasks: the default queue with one catalogue queue (the default),
    else ``<CELERY_QUEUE>.catalog.<n>``, n from a hash of the tenant id (stable across processes and runs)."""
    queues = settings.CATALOG_QUEUES if queues is None else queues
    if queues <= 1:
        return settings.CELERY_TASK_DEFAULT_QUEUE
    # hashed first: consecutive ids would otherwise feed the jump hash's generator consecutive seeds
    key = int.from_bytes(hashlib.blake2b(str(int(tenant_id)).encode(), digest_size=8).digest(), "big")
    return f"{settings.CELERY_TASK_DEFAULT_QUEUE}.catalog.{_jump_hash(key, queues)}"


def route_task(name: str, args: Any, kwargs: Any, options: Any, task: Any = None, **kw: Any) -> dict | None:
    """Celery router (``task_routes``): a catalogue task goes to its tenant's queue; None leaves the default.
    Applies to ``delay`` and ``send_task`` alike, so the outbox sweeper's sends are routed the same way."""
    position = TENANT_ARG.get(name)
    if position is None or settings.CATALOG_QUEUES <= 1:
        return None
    tenant_id = (kwargs or {}).get("tenant_id")
    if tenant_id is None and args is not None and len(args) > position:
        tenant_id = args[position]
    if tenant_id is None:
        return None
    return {"queue": catalog_queue(int(tenant_id))}


app.conf.task_routes = (route_task,)
