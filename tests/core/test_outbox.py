"""The embedded mode's inline run of queued tasks (core.outbox.run_inline): a task that fails after the write
that queued it committed is logged, never turned into the write's answer; a transient error is tried again."""

from __future__ import annotations

import logging

import pytest
from celery.exceptions import Retry
from django.db import OperationalError, transaction

from core import outbox
from tenants.models import Tenant

pytestmark = pytest.mark.django_db(transaction=True)


class Task:
    """A task as the outbox sees one: a name and ``delay``, failing with the given errors first."""

    name = "tests.flaky"

    def __init__(self, *errors: BaseException) -> None:
        self.errors = list(errors)
        self.calls: list[tuple] = []

    def delay(self, *args: object) -> None:
        self.calls.append(args)
        if self.errors:
            raise self.errors.pop(0)


def test_a_task_failing_after_the_commit_leaves_the_write_standing_and_is_logged(eager_tasks, caplog):
    task = Task(ValueError("boom"))
    with caplog.at_level(logging.ERROR, logger="core.outbox"), transaction.atomic():
        Tenant.objects.create(domain="inline.myshopify.com", name="Inline")
        outbox.enqueue(task, 7)
    assert task.calls == [(7,)]
    assert Tenant.objects.filter(domain="inline.myshopify.com").exists()
    assert "boom" in caplog.text and "stands" in caplog.text


def test_a_transient_error_is_tried_again_until_the_retries_run_out(caplog):
    deadlock = OperationalError("deadlock detected")
    task = Task(Retry("deadlock", exc=deadlock), deadlock)
    outbox.run_inline(task, [1])
    assert len(task.calls) == 3  # two failures, then done
    hopeless = Task(*[deadlock] * (outbox.MAX_RETRIES + 1))
    with caplog.at_level(logging.ERROR, logger="core.outbox"):
        outbox.run_inline(hopeless, [2])
    assert len(hopeless.calls) == outbox.MAX_RETRIES + 1
    assert "failed after 4 tries" in caplog.text
