from celery import shared_task

from apikeys import services


@shared_task(acks_late=True, ignore_result=True)
def usage_flush() -> int:
    """Periodic: write per-key usage counters from Redis into hourly rows (idempotent)."""
    return services.usage_flush()
