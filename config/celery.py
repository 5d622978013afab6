"""The Celery application: Redis broker when REDIS_URL is set, eager otherwise.

Every task a write queues goes through ``enqueue``: a row of the task outbox is written in the caller's
transaction and the task is published after the commit. A broker that is down or hung never fails the
request (publishing is bounded by short timeouts and its errors are logged): the outbox sweeper
(``config.tasks.tasks_sweep``, on the beat) publishes what is left once the broker is back.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
import time
from typing import Any

from celery import Celery
from django.conf import settings
from django.db import InterfaceError, OperationalError, transaction

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("platform")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Catalogue tasks and where their tenant id is among their arguments: with CATALOG_QUEUES > 1 each goes to its
# tenant's queue, so a worker consuming some of those queues builds and keeps only those tenants' indexes
# (catalog/index.py) instead of every tenant's. Others (and product_recommend queued by the sweeper, which
# gives no tenant) stay on the default queue.
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

log = logging.getLogger("config.celery")

# Database errors that pass (a restart, a dropped connection): tasks retry them. Tasks that only retry
# take RETRY_TRANSIENT (Celery's own autoretry, backoff 2, 4, 8 s); tasks that must record a failure
# for good catch TRANSIENT themselves.
TRANSIENT = (OperationalError, InterfaceError)
MAX_RETRIES = 3
RETRY_TRANSIENT = {
    "autoretry_for": TRANSIENT,
    "retry_backoff": 2,
    "retry_jitter": False,
    "max_retries": MAX_RETRIES,
}


def transient_backoff(retries: int) -> int:
    """Seconds before the next try of a task that caught a TRANSIENT error itself, after ``retries`` tries:
    the same 2, 4, 8 s as RETRY_TRANSIENT's autoretry (one policy for both)."""
    return RETRY_TRANSIENT["retry_backoff"] * 2**retries


_paused_until = 0.0
_pause_lock = threading.Lock()


def enqueue(task: Any, *args: Any) -> None:
    """Queue ``task(*args)`` once the current transaction commits (now, outside one), without ever failing
    the caller: the outbox row written here is removed once the broker took the task, else the sweeper
    sends it later. Arguments are ids, lists of ids and short strings (stored as JSON)."""
    if app.conf.task_always_eager:
        transaction.on_commit(lambda: task.delay(*args))  # the embedded mode: run inline, errors propagate
        return
    from config.models import TaskOutbox

    row = TaskOutbox.objects.create(task=task.name, args=list(args))
    transaction.on_commit(lambda: publish(task.name, list(args), outbox_id=row.pk))


def publish(name: str, args: list, *, outbox_id: int | None = None, force: bool = False) -> bool:
    """Send one task to the broker (bounded by the broker timeouts); True when the broker took it.
    A failure is logged, never raised; the outbox row (when given) is deleted once the task is sent."""
    global _paused_until
    if not force and time.monotonic() < _paused_until:
        return False
    try:
        task = app.tasks.get(name)
        if task is not None:
            task.delay(*args)
        else:  # a process that never imported the task's module (the sweeper): send it by name
            app.send_task(name, args=args)
    except Exception as exc:  # any broker or socket error: the task stays in the outbox
        with _pause_lock:
            was_running = time.monotonic() >= _paused_until
            # requests of this process leave their tasks to the sweeper for a few seconds instead of each
            # paying the broker timeout again
            _paused_until = time.monotonic() + settings.TASK_PUBLISH_PAUSE_SECONDS
        if was_running:
            log.warning("broker unavailable, %s left in the task outbox: %s: %s", name, type(exc).__name__, exc)
        return False
    if outbox_id is not None:
        from config.models import TaskOutbox

        try:
            TaskOutbox.objects.filter(pk=outbox_id).delete()
        except TRANSIENT as exc:  # sent already; the sweeper sends it again, and tasks are safe to run twice
            log.warning("task outbox row %s not removed: %s", outbox_id, exc)
    return True
