"""A real Celery worker process for tests of asynchronous work (PostgreSQL and Redis only).

Use the ``live_celery_worker`` fixture (registered in tests/conftest.py) with
``transactional_db``: the worker is a separate process on the test database,
so data must be committed. Tasks sent during the test go through the Redis
broker on a queue of the test's own and run in that worker.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from config.celery import app as celery_app

ROOT = Path(__file__).resolve().parent.parent


def wait_for(predicate: Callable[[], bool], timeout: float = 30.0, interval: float = 0.1) -> bool:
    """Poll ``predicate`` until it holds or ``timeout`` seconds pass (for outcomes of another process)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()


class LiveWorker:
    def __init__(self, queue: str, process: subprocess.Popen) -> None:
        self.queue = queue
        self.process = process

    def kill(self) -> None:
        """SIGKILL the worker (a crash): tasks it held unacknowledged go back to the queue."""
        self.process.kill()
        self.process.wait(timeout=10)


def _start(queue: str) -> subprocess.Popen:
    db = settings.DATABASES["default"]
    env = dict(os.environ)
    env.update(
        DATABASE_URL=f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
        REDIS_URL=settings.REDIS_URL,
        CELERY_TASK_ALWAYS_EAGER="0",
        CELERY_QUEUE=queue,
        REDIS_KEY_PREFIX=settings.REDIS_KEY_PREFIX,
    )
    cmd = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "config",
        "worker",
        "--pool",
        "solo",
        "-Q",
        queue,
        "--without-heartbeat",
        "--without-gossip",
        "--without-mingle",
        "-l",
        "warning",
    ]
    return subprocess.Popen(cmd, cwd=ROOT, env=env)  # noqa: S603


@pytest.fixture
def live_celery_worker(transactional_db) -> Iterator[LiveWorker]:
    """Start a worker on the test database; tasks sent in the test go to it (not eager)."""
    if connection.vendor != "postgresql" or not settings.REDIS_URL:
        pytest.skip("a live Celery worker needs PostgreSQL and Redis")
    queue = f"test-{uuid.uuid4().hex[:10]}"
    conf = celery_app.conf
    saved = (conf.task_always_eager, conf.task_default_queue, conf.broker_url)
    conf.task_always_eager = False
    conf.task_default_queue = queue
    worker = LiveWorker(queue, _start(queue))
    # ready when it answers a ping on its queue
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        replies = celery_app.control.ping(timeout=0.5)
        if replies:
            break
    try:
        yield worker
    finally:
        if worker.process.poll() is None:
            worker.process.terminate()
            try:
                worker.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                worker.process.kill()
        conf.task_always_eager, conf.task_default_queue, _ = saved
        with celery_app.connection_for_write() as conn:
            conn.default_channel.queue_purge(queue)


def restart(worker: LiveWorker) -> LiveWorker:
    """Start a fresh worker on the same queue (after ``kill``)."""
    return LiveWorker(worker.queue, _start(worker.queue))
