"""Queueing a task from a write: the transactional outbox.

Every task a write queues goes through ``enqueue``: a row of the task outbox is written in the caller's
transaction and the task is published after the commit. A broker that is down or hung never fails the
request (publishing is bounded by short timeouts and its errors are logged): the outbox sweeper
(``config.tasks.tasks_sweep``, on the beat) publishes what is left once the broker is back.

The Celery application is the current one (``config.celery`` creates it when Django starts), so this
ground-floor module never imports the project package.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from celery import current_app
from celery.exceptions import Retry
from django.conf import settings
from django.db import transaction

from core.models import TaskOutbox
from core.retry import MAX_RETRIES, TRANSIENT

log = logging.getLogger("core.outbox")

_paused_until = 0.0
_pause_lock = threading.Lock()


def enqueue(task: Any, *args: Any) -> None:
    """Queue ``task(*args)`` once the current transaction commits (now, outside one), without ever failing
    the caller: the outbox row written here is removed once the broker took the task, else the sweeper
    sends it later. Arguments are ids, lists of ids and short strings (stored as JSON)."""
    if current_app.conf.task_always_eager:
        transaction.on_commit(lambda: run_inline(task, list(args)))  # the embedded mode: no worker, run it now
        return
    row = TaskOutbox.objects.create(task=task.name, args=list(args))
    transaction.on_commit(lambda: publish(task.name, list(args), outbox_id=row.pk))


def run_inline(task: Any, args: list) -> None:
    """Run ``task(*args)`` here and now, after the write that queued it committed (the embedded mode).

    The write stands whatever the task does, so a failing task is logged, never raised into the answer of a
    committed write (a 500 after a commit). A transient error (a deadlock, a dropped connection) is tried
    again at once, up to ``MAX_RETRIES`` times: Celery's eager retry raises instead of running again."""
    for attempt in range(MAX_RETRIES + 1):
        try:
            task.delay(*args)
            return
        except (Retry, *TRANSIENT) as exc:
            if attempt == MAX_RETRIES:
                log.error("task %s%s failed after %d tries: %s", task.name, tuple(args), attempt + 1, exc)
        except Exception:
            log.exception("task %s%s failed; the write that queued it stands", task.name, tuple(args))
            return


def publish(name: str, args: list, *, outbox_id: int | None = None, force: bool = False) -> bool:
    """Send one task to the broker (bounded by the broker timeouts); True when the broker took it.
    A failure is logged, never raised; the outbox row (when given) is deleted once the task is sent."""
    global _paused_until
    if not force and time.monotonic() < _paused_until:
        return False
    try:
        task = current_app.tasks.get(name)
        if task is not None:
            task.delay(*args)
        else:  # a process that never imported the task's module (the sweeper): send it by name
            current_app.send_task(name, args=args)
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
        try:
            TaskOutbox.objects.filter(pk=outbox_id).delete()
        except TRANSIENT as exc:  # sent already; the sweeper sends it again, and tasks are safe to run twice
            log.warning("task outbox row %s not removed: %s", outbox_id, exc)
    return True
