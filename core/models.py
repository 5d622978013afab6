"""Models of the platform as a whole (not of one app)."""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class TaskOutbox(models.Model):
    """A task queued by a committed write and not yet taken by the broker (the transactional outbox).

    Written in the same transaction as the change that needs the task, deleted once the task is published;
    rows that stay (the broker was down or hung, or the process died after the commit) are published again
    by the sweeper. Tasks are safe to run twice, so a row published twice does no harm.
    """

    task = models.CharField(max_length=200)
    args = models.JSONField(default=list)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    attempts = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name_plural = "task outbox"

    def __str__(self) -> str:
        return f"{self.task}{tuple(self.args)}"
