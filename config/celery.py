"""The Celery application: Redis broker when REDIS_URL is set, eager otherwise."""

import os

from celery import Celery
from django.db import InterfaceError, OperationalError

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("platform")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

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
