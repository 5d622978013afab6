"""The one retry policy of every task: which errors pass (a database restart, a dropped connection) and how
long to wait before the next try.

Tasks that only retry take ``RETRY_TRANSIENT`` (Celery's own autoretry, backoff 2, 4, 8 s); tasks that
must record a failure for good catch ``TRANSIENT`` themselves and wait ``transient_backoff(retries)``.
"""

from __future__ import annotations

from django.db import InterfaceError, OperationalError

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
