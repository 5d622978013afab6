"""The sweeper and the outbox without a broker: which rows it sends again, and a deadlock retried once."""

from __future__ import annotations

import logging
from datetime import timedelta
from types import SimpleNamespace

import psycopg
import pytest
from django.db import OperationalError
from django.utils import timezone

from apikeys.errors import to_api_error
from apikeys.exceptions import ErrorKind
from catalog.models import Product, ProductState
from config import tasks
from core.locks import retry_deadlock
from core.models import TaskOutbox
from merchandising.models import Collection, SortState, StoreWriteback, WritebackKind, WritebackState
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def sent(monkeypatch) -> list[tuple[str, list]]:
    calls: list[tuple[str, list]] = []

    def publish(name, args, *, outbox_id=None, force=False):
        calls.append((name, list(args)))
        if outbox_id is not None:
            TaskOutbox.objects.filter(pk=outbox_id).delete()
        return True

    monkeypatch.setattr(tasks, "publish", publish)
    return calls


def test_sweeper_sends_old_outbox_rows_and_stuck_work_only(tenant_a, sent, settings):
    settings.TASK_OUTBOX_RETRY_SECONDS = 60
    settings.TASK_STUCK_SECONDS = 600
    long_ago = timezone.now() - timedelta(hours=1)
    old = TaskOutbox.objects.create(task="catalog.tasks.product_recommend", args=[1], created_at=long_ago)
    fresh = TaskOutbox.objects.create(task="catalog.tasks.product_recommend", args=[2])  # its publish may be under way
    stuck = factories.product(tenant_a, state=ProductState.RECOMMENDING, state_changed_at=long_ago)
    factories.product(tenant_a, state=ProductState.RECOMMENDING)  # just asked: not stuck yet
    queued = Collection.objects.create(
        tenant=tenant_a, external_id=5, title="C", sort_state=SortState.QUEUED, sort_requested_at=long_ago
    )
    Collection.objects.create(tenant=tenant_a, external_id=6, title="D", sort_state=SortState.QUEUED)

    assert tasks.tasks_sweep() == 3
    assert sent == [
        ("catalog.tasks.product_recommend", [1]),
        ("catalog.tasks.product_recommend", [stuck.pk, tenant_a.pk]),  # routed by its tenant
        ("merchandising.tasks.collection_sort", [queued.pk]),
    ]
    assert list(TaskOutbox.objects.values_list("pk", flat=True)) == [fresh.pk]
    assert not TaskOutbox.objects.filter(pk=old.pk).exists()
    assert Product.objects.filter(state=ProductState.RECOMMENDING).count() == 2  # the task changes states


def test_sweeper_sends_writebacks_whose_task_is_gone_and_leaves_live_and_waiting_ones(tenant_a, sent, settings):
    settings.TASK_STUCK_SECONDS = 600
    collections = [
        Collection.objects.create(tenant=tenant_a, external_id=n, title=f"C{n}", sort_state=SortState.IDLE)
        for n in range(1, 5)
    ]

    def writeback(collection: Collection, state: str, age: timedelta) -> StoreWriteback:
        wb = StoreWriteback.objects.create(
            tenant=tenant_a, kind=WritebackKind.COLLECTION, collection=collection, state=state
        )
        StoreWriteback.objects.filter(pk=wb.pk).update(updated_at=timezone.now() - age)  # auto_now otherwise
        return wb

    dead = writeback(collections[0], WritebackState.SENDING, timedelta(minutes=20))  # its worker died
    writeback(collections[1], WritebackState.SENDING, timedelta(minutes=1))  # being sent
    writeback(collections[1], WritebackState.PENDING, timedelta(hours=1))  # queued when the one above ends
    lost = writeback(collections[2], WritebackState.PENDING, timedelta(hours=1))  # its task was lost
    writeback(collections[3], WritebackState.PENDING, timedelta(minutes=1))  # just queued
    writeback(collections[3], WritebackState.DONE, timedelta(hours=2))

    assert tasks.tasks_sweep() == 2
    assert sent == [
        ("merchandising.tasks.store_writeback_send", [dead.pk]),
        ("merchandising.tasks.store_writeback_send", [lost.pk]),
    ]


def deadlock() -> OperationalError:
    error = OperationalError("deadlock detected")
    error.__cause__ = psycopg.errors.DeadlockDetected("deadlock detected")
    return error


def test_a_deadlock_is_retried_once_outside_a_transaction(monkeypatch):
    from core import locks

    # as in a request: no transaction is open around the service (the test's own is hidden)
    monkeypatch.setattr(locks, "connection", SimpleNamespace(in_atomic_block=False))
    calls = []

    @retry_deadlock
    def write():
        calls.append(1)
        if len(calls) == 1:
            raise deadlock()
        return "done"

    assert write() == "done" and len(calls) == 2

    @retry_deadlock
    def always():
        calls.append(1)
        raise deadlock()

    calls.clear()
    with pytest.raises(OperationalError):
        always()
    assert len(calls) == 2  # once, not forever


def test_a_deadlock_that_outlived_its_retry_is_logged_as_a_deadlock(caplog):
    with caplog.at_level(logging.ERROR, logger="apikeys.errors"):
        error = to_api_error(deadlock())
    assert error.kind == ErrorKind.UNAVAILABLE
    assert "deadlock" in caplog.text and "database unavailable" not in caplog.text


def test_tasks_that_catch_transient_errors_wait_as_celerys_autoretry_does():
    """One retry policy: the hand-caught ladders (sorts, recommendations) wait 2, 4, 8 s like RETRY_TRANSIENT."""
    from celery.utils.time import get_exponential_backoff_interval

    from core.retry import RETRY_TRANSIENT, transient_backoff

    assert (
        [transient_backoff(n) for n in range(3)]
        == [
            get_exponential_backoff_interval(
                factor=RETRY_TRANSIENT["retry_backoff"],
                retries=n,
                maximum=600,
                full_jitter=RETRY_TRANSIENT["retry_jitter"],
            )
            for n in range(3)
        ]
        == [2, 4, 8]
    )
